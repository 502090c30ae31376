/* modules.c — per-module activation statistics of the model's last forward (activation RMS,
 * mean |x|, largest attention logit per layer), copied from mu_gpt_module_stats
 * (src/model/stats.c) so the diag JSON can carry them. */
#include "base/util.h"
#include "diag/diag_impl.h"

int mu_diag_module_stats(mu_diag_t *d, const mu_gpt_t *m) {
    MU_REQUIRE(d && m, "mu_diag_module_stats: NULL argument");
    const int32_t n = mu_gpt_n_module_stats(m);
    if (n > d->mod_cap) {
        mu_gpt_module_stat_t *s = realloc(d->mod, sizeof *s * (size_t)n);
        if (!s) return mu_set_error(MU_ENOMEM, "mu_diag_module_stats: out of memory for %d modules", (int)n);
        d->mod = s, d->mod_cap = n;
    }
    int32_t got = 0;
    MU_TRY(mu_gpt_module_stats(m, d->mod, d->mod_cap, &got));
    d->n_mod = got;
    return MU_OK;
}

int32_t mu_diag_n_modules(const mu_diag_t *d) { return d ? d->n_mod : 0; }
const mu_gpt_module_stat_t *mu_diag_modules(const mu_diag_t *d) { return d ? d->mod : NULL; }
