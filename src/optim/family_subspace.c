/* family_subspace.c — rotated-basis methods: Conda, COSMOS (optimizers-lmo.md §12, §13).
 * Presets are table rows built from preset_links.h pieces; the two transforms they
 * introduce (subspace_conda.c, subspace_cosmos.c) are listed here. Hyperparameters the
 * config struct lacks (Conda scale and period, COSMOS rank and gamma, rms ratio) are row
 * constants: override them with --opt matrix.subspace_conda.period=500 etc. */
#include "optim/family.h"
#include "optim/preset_links.h"

/* ema(beta1): Conda's m is an EMA of G with the Adam beta1 */
#define EMA_B1_LINK MOM_LINK(mu_tr_ema, MU_SRC_BETA1, 0)
/* sum(beta1): COSMOS's M <- b1 M + G */
#define SUM_B1_LINK MOM_LINK(mu_tr_sum, MU_SRC_BETA1, 0)
#define CONDA_LINK                                                                                      \
    {&mu_tr_subspace_conda,                                                                             \
     {{"b1", MU_SRC_BETA1, 0}, {"b2", MU_SRC_BETA2, 0}, {"eps", MU_SRC_EPS, 0}, {"scale", MU_SRC_CONST, 0.25f}, \
      {"period", MU_SRC_CONST, 2000}, SPLIT_BIND}}
#define COSMOS_LINK                                                                                    \
    {&mu_tr_subspace_cosmos,                                                                           \
     {{"b1", MU_SRC_BETA1, 0}, {"b2", MU_SRC_BETA2, 0}, {"eps", MU_SRC_EPS, 0}, {"rank", MU_SRC_CONST, 64}, \
      {"gamma", MU_SRC_CONST, 0.2f}, SPLIT_BIND}}
#define DECAY_POST_LINK {&mu_tr_decay, {{"wd", MU_SRC_WD, 0}, {"mode", MU_SRC_CONST, 1}, WD_MODE_BIND, {NULL, 0, 0}}}

static const mu_preset_t presets[] = {
    {
        .name = "conda",
        .summary = "Conda: Adam in the rotated basis of the momentum's singular vectors (SVD every period "
                   "steps, fp64), step scale 0.25, WD after the update; AdamW at the same lr elsewhere",
        .source = "arXiv 2509.24218; jie040109/Conda conda_torch/conda.py, projector.py (optimizers-lmo.md §12); "
                  "v kept across refreshes (our choice, source silent); GPT-2 125M defaults",
        .confidence = "code",
        .aux_lr = 0.0f,  // the rest gets Adam at the same lr
        .defaults = {{MU_SRC_LR, 6e-3f}, {MU_SRC_BETA1, 0.9f}, {MU_SRC_BETA2, 0.99f}, {MU_SRC_EPS, 1e-8f},
                     {MU_SRC_WD, 0.01f}},
        .groups =
            {
                {.name = "matrix", .roles = MU_ROLEBIT(MU_ROLE_HIDDEN), .decay = MU_SEL_ANY, .lr_src = MU_SRC_LR,
                 .lr_mult = 1.0f, .chain = {EMA_B1_LINK, CONDA_LINK, APPLY_LINK, DECAY_POST_LINK, END_LINK}},
                AUX_GROUPS,
            },
    },
    {
        .name = "cosmos",
        .summary = "COSMOS: Adam on the leading rank-64 eigen-subspace of GᵀG plus ns5 on the residual "
                   "(Nesterov form), update RMS = ratio 0.2; AdamW at the same lr elsewhere",
        .source = "arXiv 2502.17410; lliu606/COSMOS COSMOS_optim.py (preliminary) (optimizers-lmo.md §13); "
                  "README defaults; B = 0 when rank >= n (ours)",
        .confidence = "code",
        .aux_lr = 0.0f,
        .defaults = {{MU_SRC_LR, 2e-3f}, {MU_SRC_BETA1, 0.95f}, {MU_SRC_BETA2, 0.95f}, {MU_SRC_EPS, 1e-8f},
                     {MU_SRC_WD, 0.1f}},
        .groups = {MATRIX_GROUP(SUM_B1_LINK, COSMOS_LINK, RMS_LINK(0.2f, MU_SRC_EPS, 0)), AUX_GROUPS},
    },
};

static const mu_transform_t *const transforms[] = {&mu_tr_subspace_conda, &mu_tr_subspace_cosmos};

MU_FAMILY(mu_family_subspace, "subspace", presets, transforms);
