/* family_lmo.c — MARS (mars-adamw, mars-lion, mars-shampoo, mars-m), Lion, Scion, Gluon, noise-adaptive LMO (optimizers-lmo.md). Presets are table rows built from
 * preset_links.h pieces; new transforms live one per file and are listed here. */
#include "optim/family.h"
#include "optim/preset_links.h"

static const mu_preset_t presets[1] = {{.name = NULL}};
static const mu_transform_t *const transforms[1] = {NULL};

const mu_family_t mu_family_lmo = {
    .name = "lmo",
    .presets = presets,
    .n_presets = 0,
    .transforms = transforms,
    .n_transforms = 0,
};
