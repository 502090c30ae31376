/* param.c — names of parameter roles (the registry's role field) and their parser.
 * Names are lowercase ("embed", "hidden", "head", "gain", "bias"); parsing ignores case. */
#include <strings.h>

#include "base/util.h"
#include "muon/param.h"

static const char *const role_names[] = {"embed", "hidden", "head", "gain", "bias"};

const char *mu_role_name(mu_role_t r) {
    if ((int)r < 0 || (int)r >= (int)(sizeof role_names / sizeof role_names[0])) return "unknown";
    return role_names[r];
}

int mu_role_parse(const char *s, mu_role_t *out) {
    MU_REQUIRE(s && out, "mu_role_parse: NULL argument");
    for (int i = 0; i < (int)(sizeof role_names / sizeof role_names[0]); i++)
        if (strcasecmp(s, role_names[i]) == 0) {
            *out = (mu_role_t)i;
            return MU_OK;
        }
    return mu_set_error(MU_EINVAL, "parameter role '%s' unknown (expected embed, hidden, head, gain or bias)", s);
}
