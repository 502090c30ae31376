/* family_lmo.c — MARS (mars-adamw, mars-lion, mars-shampoo, mars-m), Lion, Scion
 * (scion, scion-unconstrained), Gluon and the noise-adaptive LMO (optimizers-lmo.md §3, §4,
 * §5, §10, §14). Presets are table rows built from preset_links.h pieces; the transforms this
 * family introduces (grad_diff, clip_frob, sign, lion_mix, lmo, layer_lr) live one per file
 * (lmo's oracles in lmo_oracle.c, Gluon's fit in hinge_fit.c) and are listed here.
 * docs/optimizers-lmo.md mirrors these rows.
 */
#include "optim/family.h"
#include "optim/preset_links.h"

static const mu_transform_t *const transforms[] = {&mu_tr_grad_diff, &mu_tr_clip_frob, &mu_tr_sign, &mu_tr_lion_mix,
                                                   &mu_tr_lmo,       &mu_tr_layer_lr};

/* ---- chain pieces of this family ---- */
#define ROLES_2D (MU_ROLEBIT(MU_ROLE_EMBED) | MU_ROLEBIT(MU_ROLE_HIDDEN) | MU_ROLEBIT(MU_ROLE_HEAD))
#define ROLES_1D (MU_ROLEBIT(MU_ROLE_GAIN) | MU_ROLEBIT(MU_ROLE_BIAS))
/* MARS (1)-(2): c = G + gamma*beta/(1-beta)(G - G_prev), then c / max(1, ‖c‖_F); beta from `src` */
#define MARS_LINKS(src)                                                                                   \
    {&mu_tr_grad_diff, {{"gamma", MU_SRC_CONST, 0.025f}, {"beta", src, 0}, {NULL, 0, 0}}},               \
    {&mu_tr_clip_frob, {{"tau", MU_SRC_CONST, 1.0f}, {NULL, 0, 0}}}
#define EMA_LINK(src) MOM_LINK(mu_tr_ema, src, 0)
/* A 2-D group split by weight-decay eligibility: the same chain, decay only where eligible. */
#define MATRIX_GROUPS_2D(...) \
    DECAY_SPLIT_GROUPS("matrix", "matrix_no_decay", ROLES_2D, MU_SRC_LR, DECAY_LR_LINK, __VA_ARGS__)
/* MARS code: 1-D tensors -> AdamW(0.9, 0.95) at eta_1d = aux_lr, lambda_1d = 0.1 when decayed */
#define MARS_ADAM_1D                                                                                      \
    {&mu_tr_adam, {{"b1", MU_SRC_CONST, 0.9f}, {"b2", MU_SRC_CONST, 0.95f}, {"eps", MU_SRC_EPS, 0}, {NULL, 0, 0}}}
#define MARS_VECTOR_GROUPS                                                                              \
    DECAY_SPLIT_GROUPS("vector", "vector_no_decay", ROLES_1D, MU_SRC_AUX_LR, DECAY_LINK(MU_SRC_CONST, 0.1f), MARS_ADAM_1D), \
        {.name = NULL}
#define LION_MIX_LINK {&mu_tr_lion_mix, {{"b1", MU_SRC_BETA1, 0}, {"b2", MU_SRC_BETA2, 0}, {NULL, 0, 0}}}
#define MARS_DEFAULTS                                                                                       \
    {{MU_SRC_LR, 3e-3f}, {MU_SRC_BETA1, 0.95f}, {MU_SRC_BETA2, 0.99f}, {MU_SRC_EPS, 1e-8f}, {MU_SRC_WD, 0.0f}}
#define MARS_SOURCE "arXiv 2411.10438 (MARS); AGI-Arena/MARS MARS/optimizers/mars.py (optimizers-lmo.md §3)"

/* Scion / Gluon: every role steps along its own LMO (no AdamW). kind values: lmo.c. */
#define LMO_LINK(kind, layout, rho, tied_rho, l1)                                                          \
    {&mu_tr_lmo,                                                                                            \
     {{"kind", MU_SRC_CONST, kind}, {"layout", MU_SRC_CONST, layout}, {"rho", MU_SRC_CONST, rho},           \
      {"tied_rho", MU_SRC_CONST, tied_rho}, SPLIT_BIND, {"orth", MU_SRC_ORTH_KIND, 0},                      \
      {"l1", MU_SRC_CONST, l1}, {NULL, 0, 0}}}
#define SCION_DECAY {&mu_tr_decay, {{"mode", MU_SRC_CONST, 2}, {NULL, 0, 0}}}
#define LMO_GROUP(name_, roles_, lmo_, ...)                                                               \
    {.name = name_, .roles = roles_, .decay = MU_SEL_ANY, .lr_src = MU_SRC_LR, .lr_mult = 1.0f,             \
     .chain = {EMA_LINK(MU_SRC_MOMENTUM), lmo_, __VA_ARGS__}}
/* Rec. 3.1 roles: spectral (hidden), colnorm on the (V, d) table (sign when tied: head rule),
 * sign (head), bias_rms (gains, biases). Radii from the modded-nanogpt run (50 / 3000);
 * embed 1 and gain/bias 1 are ours (RMS-1 vectors for a pre-LN GPT). */
#define SCION_GROUPS(...)                                                                                      \
    LMO_GROUP("hidden", MU_ROLEBIT(MU_ROLE_HIDDEN), LMO_LINK(0, 0, 50.0f, 0, 0), __VA_ARGS__),              \
        LMO_GROUP("embed", MU_ROLEBIT(MU_ROLE_EMBED), LMO_LINK(2, 1, 1.0f, 3000.0f, 0), __VA_ARGS__),       \
        LMO_GROUP("head", MU_ROLEBIT(MU_ROLE_HEAD), LMO_LINK(4, 0, 3000.0f, 0, 0), __VA_ARGS__),            \
        LMO_GROUP("vector", ROLES_1D, LMO_LINK(5, 0, 1.0f, 0, 0), __VA_ARGS__), {.name = NULL}
#define SCION_DEFAULTS {{MU_SRC_LR, 3.6e-4f}, {MU_SRC_MOMENTUM, 0.9f}, {MU_SRC_WD, 0.0f}}

/* Noise-adaptive LMO (§10, ours): layer_lr(noise) measures in the norm of the lmo after it
 * (same kind/layout/tied_rho/split/orth: checked at init), then lmo -> decay(wd, lr) -> apply. */
#define NOISE_LINK(kind, layout, tied_rho)                                                                  \
    {&mu_tr_layer_lr,                                                                                       \
     {{"rule", MU_SRC_CONST, 0}, {"b2", MU_SRC_CONST, 0.99f}, {"kind", MU_SRC_CONST, kind},                 \
      {"layout", MU_SRC_CONST, layout}, {"tied_rho", MU_SRC_CONST, tied_rho}, SPLIT_BIND,                  \
      {"orth", MU_SRC_ORTH_KIND, 0}, {NULL, 0, 0}}}
#define NOISE_GROUP(name_, roles_, kind, layout, rho, tied_rho)                                               \
    {.name = name_, .roles = roles_, .decay = MU_SEL_ANY, .lr_src = MU_SRC_LR, .lr_mult = 1.0f,               \
     .chain = {EMA_LINK(MU_SRC_MOMENTUM), NOISE_LINK(kind, layout, tied_rho),                                 \
               LMO_LINK(kind, layout, rho, tied_rho, 0), DECAY_LR_LINK, APPLY_LINK, END_LINK}}

static const mu_preset_t presets[] = {
    {
        .name = "mars-adamw",
        .summary = "MARS-AdamW (approx): variance-reduced gradient c, clipped to ‖c‖_F <= 1, into AdamW; "
                   "every 2-D tensor, 1-D tensors plain AdamW",
        .source = MARS_SOURCE,
        .confidence = "code",
        .aux_lr = 3e-3f,
        .defaults = MARS_DEFAULTS,
        .groups = {MATRIX_GROUPS_2D(MARS_LINKS(MU_SRC_BETA1), ADAM_LINK), MARS_VECTOR_GROUPS},
    },
    {
        .name = "mars-lion",
        .summary = "MARS-Lion (approx): sign of the EMA of the clipped variance-reduced gradient; every 2-D tensor",
        .source = MARS_SOURCE,
        .confidence = "code",
        .aux_lr = 3e-3f,
        .defaults = {{MU_SRC_LR, 3e-4f}, {MU_SRC_BETA1, 0.95f}, {MU_SRC_BETA2, 0.99f}, {MU_SRC_EPS, 1e-8f},
                     {MU_SRC_WD, 0.0f}},
        .groups = {MATRIX_GROUPS_2D(MARS_LINKS(MU_SRC_BETA1), EMA_LINK(MU_SRC_BETA1), SIGN_LINK),
                   MARS_VECTOR_GROUPS},
    },
    {
        .name = "mars-shampoo",
        .summary = "MARS-Shampoo (approx, code variant): orth(ns5) of the EMA of c, Keller scale on the stored "
                   "shape; every 2-D tensor",
        .source = MARS_SOURCE " (code: Newton-Schulz + clip; paper: exact UV^T, no clip)",
        .confidence = "code",
        .aux_lr = 3e-3f,
        .defaults = MARS_DEFAULTS,
        .groups = {MATRIX_GROUPS_2D(MARS_LINKS(MU_SRC_BETA1), EMA_LINK(MU_SRC_BETA1), ORTH_LINK(0), SCALE_LINK(0)),
                   MARS_VECTOR_GROUPS},
    },
    {
        .name = "mars-m",
        .summary = "MARS-M (approx): Moonlight Muon on the EMA of the clipped variance-reduced gradient; hidden "
                   "matrices, AdamW on the rest at the same lr",
        .source = "arXiv 2510.21800 (MARS-M); AGI-Arena/MARS MARS_M/optimizers/mars_m.py (optimizers-lmo.md §3)",
        .confidence = "code",
        .aux_lr = 0.0f,  // aux AdamW at the same lr (Moonlight form)
        .defaults = {{MU_SRC_LR, 6e-3f}, {MU_SRC_MOMENTUM, 0.95f}, {MU_SRC_WD, 0.01f}, {MU_SRC_BETA1, 0.9f},
                     {MU_SRC_BETA2, 0.95f}, {MU_SRC_EPS, 1e-8f}},
        .groups = {MATRIX_GROUP(MARS_LINKS(MU_SRC_MOMENTUM), EMA_LINK(MU_SRC_MOMENTUM), ORTH_LINK(0), SCALE_LINK(1)),
                   AUX_GROUPS},
    },
    {
        .name = "lion",
        .summary = "Lion: sign of the b1-interpolation of momentum and gradient; momentum is the b2-EMA; "
                   "every tensor",
        .source = "Chen et al., Symbolic Discovery of Optimization Algorithms, arXiv 2302.06675; google/automl "
                  "lion/lion_pytorch.py (optimizers-lmo.md §14)",
        .confidence = "code + paper",
        .defaults = {{MU_SRC_LR, 1e-4f}, {MU_SRC_BETA1, 0.9f}, {MU_SRC_BETA2, 0.99f}, {MU_SRC_WD, 0.0f}},
        .groups = {ALL_GROUPS(LION_MIX_LINK, SIGN_LINK)},
    },
    {
        .name = "scion",
        .summary = "Scion (constrained SCG): W <- (1-lr)W - lr*rho*lmo(D) per role (spectral hidden, colnorm/sign "
                   "embed, sign head, bias_rms gains); no AdamW",
        .source = "Pethick et al., arXiv 2502.07529; LIONS-EPFL/scion scion.py, examples/modded-nanogpt "
                  "(optimizers-lmo.md §4)",
        .confidence = "code + paper",
        .defaults = SCION_DEFAULTS,
        .groups = {SCION_GROUPS(SCION_DECAY, APPLY_LINK, END_LINK)},
    },
    {
        .name = "scion-unconstrained",
        .summary = "Scion unconstrained (uSCG): W <- W - lr*rho*lmo(D) per role; no AdamW",
        .source = "Pethick et al., arXiv 2502.07529; LIONS-EPFL/scion scion.py (optimizers-lmo.md §4)",
        .confidence = "code + paper",
        .defaults = SCION_DEFAULTS,
        .groups = {SCION_GROUPS(APPLY_LINK, END_LINK)},
    },
    {
        .name = "gluon",
        .summary = "Gluon: uSCG at unit radius with the per-layer step t = D/(L0 + L1*D), D = dual norm of the "
                   "momentum; lr = schedule multiplier s_t (default 1)",
        .source = "Riabinin et al., Gluon, arXiv 2505.13416 (abstract + third-party transcription; no code) "
                  "(optimizers-lmo.md §5)",
        .confidence = "abstract-only",
        .defaults = {{MU_SRC_LR, 1.0f}, {MU_SRC_MOMENTUM, 0.9f}, {MU_SRC_WD, 0.0f}},
        .groups =
            {
                LMO_GROUP("hidden", MU_ROLEBIT(MU_ROLE_HIDDEN), LMO_LINK(0, 0, 1.0f, 0, 70.0f), APPLY_LINK, END_LINK),
                LMO_GROUP("embed", MU_ROLEBIT(MU_ROLE_EMBED), LMO_LINK(2, 1, 1.0f, 1.0f, 1.3f), APPLY_LINK,
                          END_LINK),
                LMO_GROUP("head", MU_ROLEBIT(MU_ROLE_HEAD), LMO_LINK(4, 0, 1.0f, 0, 1.3f), APPLY_LINK, END_LINK),
                LMO_GROUP("vector", ROLES_1D, LMO_LINK(5, 0, 1.0f, 0, 1.3f), APPLY_LINK, END_LINK),
                {.name = NULL},
            },
    },
    {
        .name = "noise-adaptive-lmo",
        .summary = "Noise-adaptive LMO (ours, LANTON-inspired): scion-unconstrained's groups with a per-layer lr "
                   "lr*sqrt(min_j n_j / n_l), n = EMA of the squared dual norm of G - M",
        .source = "Hao et al., LANTON, arXiv 2510.14009 (abstract only): our reconstruction of optimizers-lmo.md §10",
        .confidence = "reconstruction",
        .defaults = {{MU_SRC_LR, 3.6e-4f}, {MU_SRC_MOMENTUM, 0.95f}, {MU_SRC_WD, 0.0f}},
        .groups =
            {
                NOISE_GROUP("hidden", MU_ROLEBIT(MU_ROLE_HIDDEN), 0, 0, 50.0f, 0),
                NOISE_GROUP("embed", MU_ROLEBIT(MU_ROLE_EMBED), 2, 1, 1.0f, 3000.0f),
                NOISE_GROUP("head", MU_ROLEBIT(MU_ROLE_HEAD), 4, 0, 3000.0f, 0),
                NOISE_GROUP("vector", ROLES_1D, 5, 0, 1.0f, 0),
                {.name = NULL},
            },
    },
};

MU_FAMILY(mu_family_lmo, "lmo", presets, transforms);
