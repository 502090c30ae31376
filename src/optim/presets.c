/* presets.c — every optimizer preset as a table row: name -> groups -> chains ->
 * defaults -> source -> confidence. Data only; docs/optimizers.md mirrors it.
 *
 * Group selection: the first group whose roles (and decay selector) match a
 * registry record takes it. A record that no group takes is an error.
 * "Decayed" records (mu_param_decayed): hidden and head matrices always,
 * embeddings unless decay_embed = 0, gains and biases only with decay_gains = 1.
 */
#include "base/util.h"
#include "optim/optim_impl.h"

#include "optim/family.h"
#include "optim/preset_links.h"

static const mu_transform_t *const core_transforms[] = {
    &mu_tr_ema,   &mu_tr_sum,  &mu_tr_adam, &mu_tr_decay,           &mu_tr_apply,     &mu_tr_scale,
    &mu_tr_orth,  &mu_tr_shape_scale,       &mu_tr_spectral_renorm, &mu_tr_rms_match, &mu_tr_adaptive,
};

static const mu_preset_t presets[] = {
    {
        .name = "adamw",
        .summary = "AdamW on every parameter; no weight decay on gains/biases by default",
        .source = "Loshchilov & Hutter, Decoupled Weight Decay Regularization (ICLR 2019); "
                  "nanoGPT configure_optimizers (decay on all 2-D params)",
        .confidence = "code",
        .defaults = {{MU_SRC_LR, 1e-3f}, {MU_SRC_BETA1, 0.9f}, {MU_SRC_BETA2, 0.95f},
                     {MU_SRC_EPS, 1e-8f}, {MU_SRC_WD, 0.1f}},
        .groups = {ALL_GROUPS(ADAM_LINK)},
    },
    {
        .name = "sgd",
        .summary = "SGD with sum momentum (PyTorch convention), optional Nesterov, decoupled WD",
        .source = "Polyak 1964 (heavy ball); Sutskever et al. ICML 2013 (Nesterov form); "
                  "torch.optim.SGD buffer convention (dampening 0)",
        .confidence = "code",
        .defaults = {{MU_SRC_LR, 1e-3f}, {MU_SRC_MOMENTUM, 0.9f}, {MU_SRC_NESTEROV, 0.0f},
                     {MU_SRC_WD, 0.1f}},
        .groups = {ALL_GROUPS(SUM_LINK)},
    },
    {
        .name = "muon",
        .summary = "Muon (Keller): orthogonalized Nesterov momentum on hidden matrices, AdamW on the rest",
        .source = "KellerJordan/Muon; kellerjordan.github.io/posts/muon (optimizers-lmo.md §2)",
        .confidence = "code",
        .aux_lr = 3e-4f,
        .defaults = KELLER_DEFAULTS,
        .groups = {MATRIX_GROUP(MOMENTUM_LINK(mu_tr_ema), ORTH_LINK(0), SCALE_LINK(0)), AUX_GROUPS},
    },
    {
        .name = "muon-moonlight",
        .summary = "Muon, Moonlight form: sum momentum, update RMS 0.2, AdamW shares lr and wd",
        .source = "Moonlight arXiv 2502.16982; MoonshotAI/Moonlight (optimizers-lmo.md §2)",
        .confidence = "code",
        .aux_lr = 0.0f,  // aux AdamW uses the same lr
        .defaults = {{MU_SRC_LR, 1e-3f}, {MU_SRC_MOMENTUM, 0.95f}, {MU_SRC_WD, 0.1f}, {MU_SRC_BETA1, 0.9f},
                     {MU_SRC_BETA2, 0.95f}, {MU_SRC_EPS, 1e-8f}},
        .groups = {MATRIX_GROUP(MOMENTUM_LINK(mu_tr_sum), ORTH_LINK(0), SCALE_LINK(1)), AUX_GROUPS},
    },
    {
        .name = "muon-pe",
        .summary = "Muon (Keller) with Polar Express polynomials orth(pe, 5)",
        .source = "Amsel et al., Polar Express, arXiv 2505.16932; NoahAmsel/PolarExpress (optimizers-lmo.md §15)",
        .confidence = "code + paper",
        .aux_lr = 3e-4f,
        .defaults = KELLER_DEFAULTS,
        .groups = {MATRIX_GROUP(MOMENTUM_LINK(mu_tr_ema), ORTH_LINK(1), SCALE_LINK(0)), AUX_GROUPS},
    },
    {
        .name = "muon-exact",
        .summary = "Muon (Keller) with the exact polar factor (LAPACK SVD): reference for studies and tests",
        .source = "Muon with orth(exact) (optimizers-lmo.md §1.1, §2 tests)",
        .confidence = "reconstruction",
        .aux_lr = 3e-4f,
        .defaults = KELLER_DEFAULTS,
        .groups = {MATRIX_GROUP(MOMENTUM_LINK(mu_tr_ema), ORTH_LINK(4), SCALE_LINK(0)), AUX_GROUPS},
    },
    {
        .name = "muonpp",
        .summary = "Muon++ (reconstruction): unit spectral norm updates x sqrt(m/n), width-independent WD, "
                   "optional adaptive factor",
        .source = "J. Zhao, Muon++, arXiv 2601.01306 (abstract only); construction of mup-and-muonpp.md §4",
        .confidence = "reconstruction",
        .aux_lr = 3e-4f,
        .defaults = {{MU_SRC_LR, 0.02f}, {MU_SRC_MOMENTUM, 0.95f}, {MU_SRC_WD, 0.1f}, {MU_SRC_BETA1, 0.9f},
                     {MU_SRC_BETA2, 0.95f}, {MU_SRC_EPS, 1e-10f}},
        .groups = {MATRIX_GROUP(MOMENTUM_LINK(mu_tr_ema), ORTH_LINK(0), RENORM_LINK, ADAPTIVE_LINK, SCALE_LINK(2)),
                   AUX_GROUPS},
    },
};

/* The core family: AdamW, SGD and the Muon presets. */
MU_FAMILY(mu_family_core, "core", presets, core_transforms);
