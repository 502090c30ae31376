/* tokenizer.c — look a tokenizer up by name ("byte"; GPT-2 BPE joins here later). */
#include <string.h>

#include "muon/data.h"

int mu_tokenizer_by_name(const char *name, const mu_tokenizer_t **out) {
    if (!out) return mu_set_error(MU_EINVAL, "mu_tokenizer_by_name: NULL output");
    *out = NULL;
    if (!name || !strcmp(name, "byte") || !strcmp(name, "bytes")) {
        *out = mu_tokenizer_byte();
        return MU_OK;
    }
    if (!strcmp(name, "gpt2") || !strcmp(name, "gpt-2"))
        return mu_set_error(MU_EUNSUPPORTED, "tokenizer '%s': GPT-2 BPE is not built yet; use 'byte'", name);
    return mu_set_error(MU_EINVAL, "tokenizer '%s': unknown (known: byte)", name);
}
