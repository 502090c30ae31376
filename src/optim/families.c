/* families.c — the list of optimizer families and the lookups over them
 * (presets by name or index, transforms by name). */
#include "base/util.h"
#include "optim/family.h"

const mu_family_t *const mu_families[] = {&mu_family_core, &mu_family_lmo, &mu_family_adaptive,
                                          &mu_family_subspace};
const int32_t mu_n_families = (int32_t)(sizeof mu_families / sizeof mu_families[0]);

int32_t mu_preset_count(void) {
    int32_t n = 0;
    for (int32_t f = 0; f < mu_n_families; f++) n += mu_families[f]->n_presets;
    return n;
}

const mu_preset_t *mu_preset_at(int32_t i) {
    for (int32_t f = 0; f < mu_n_families && i >= 0; f++) {
        if (i < mu_families[f]->n_presets) return &mu_families[f]->presets[i];
        i -= mu_families[f]->n_presets;
    }
    return NULL;
}

const mu_preset_t *mu_preset_find(const char *name) {
    for (int32_t i = 0; name && i < mu_preset_count(); i++)
        if (strcmp(mu_preset_at(i)->name, name) == 0) return mu_preset_at(i);
    return NULL;
}

int mu_preset_list(char *buf, size_t cap) {
    size_t len = 0;
    if (cap) buf[0] = 0;
    for (int32_t i = 0; i < mu_preset_count(); i++)
        len = mu_str_append(buf, cap, len, "%s%s", i ? ", " : "", mu_preset_at(i)->name);
    return MU_OK;
}

const mu_transform_t *mu_transform_find(const char *name) {
    for (int32_t f = 0; name && f < mu_n_families; f++)
        for (int32_t i = 0; i < mu_families[f]->n_transforms; i++)
            if (strcmp(mu_families[f]->transforms[i]->name, name) == 0) return mu_families[f]->transforms[i];
    return NULL;
}

int mu_transform_list(char *buf, size_t cap) {
    size_t len = 0;
    if (cap) buf[0] = 0;
    for (int32_t f = 0; f < mu_n_families; f++)
        for (int32_t i = 0; i < mu_families[f]->n_transforms; i++)
            len = mu_str_append(buf, cap, len, "%s%s", len ? ", " : "", mu_families[f]->transforms[i]->name);
    return MU_OK;
}
