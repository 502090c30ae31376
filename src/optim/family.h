/* family.h — optimizer families: each family file contributes preset rows and the
 * transforms they introduce. Adding a family = one file defining a mu_family_t plus one
 * line in families.c; nothing else changes. Lookups walk all families in order. */
#ifndef MU_OPTIM_FAMILY_H
#define MU_OPTIM_FAMILY_H

#include "optim/optim_impl.h"

typedef struct {
    const char *name;                          /* "core", "lmo", ... */
    const mu_preset_t *presets;
    int32_t n_presets;
    const mu_transform_t *const *transforms;   /* transforms this family introduces */
    int32_t n_transforms;
} mu_family_t;

/* Defines the family object `var` of a family file from its static arrays of preset rows
 * and of the transforms it introduces. */
#define MU_FAMILY(var, name_, presets_, transforms_)                                                      \
    const mu_family_t var = {.name = name_,                                                               \
                             .presets = presets_,                                                         \
                             .n_presets = (int32_t)(sizeof presets_ / sizeof presets_[0]),                \
                             .transforms = transforms_,                                                   \
                             .n_transforms = (int32_t)(sizeof transforms_ / sizeof transforms_[0])}

extern const mu_family_t mu_family_core;      /* presets.c: adamw, sgd, muon* */
extern const mu_family_t mu_family_lmo;       /* family_lmo.c: MARS, Lion, Scion, Gluon, noise-adaptive LMO */
extern const mu_family_t mu_family_adaptive;  /* family_adaptive.c: NorMuon, AdaMuon, NAMO, RMNP, PolarGrad */
extern const mu_family_t mu_family_subspace;  /* family_subspace.c: Conda, COSMOS */

extern const mu_family_t *const mu_families[];
extern const int32_t mu_n_families;

#endif
