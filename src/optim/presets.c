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

/* Chain pieces shared by the rows. */
#define ADAM_LINK                                                                        \
    {&mu_tr_adam,                                                                        \
     {{"b1", MU_SRC_BETA1, 0}, {"b2", MU_SRC_BETA2, 0}, {"eps", MU_SRC_EPS, 0}, {NULL, 0, 0}}}
#define DECAY_LR_LINK {&mu_tr_decay, {{"wd", MU_SRC_WD, 0}, {"mode", MU_SRC_CONST, 0}, {NULL, 0, 0}}}
#define SUM_LINK \
    {&mu_tr_sum, {{"beta", MU_SRC_MOMENTUM, 0}, {"nesterov", MU_SRC_NESTEROV, 0}, {NULL, 0, 0}}}
#define APPLY_LINK {&mu_tr_apply, {{NULL, 0, 0}}}
#define END_LINK {NULL, {{NULL, 0, 0}}}

/* Orthogonalizing presets: hidden matrices get the matrix chain, the rest AdamW (aux). */
#define ROLES_AUX \
    (MU_ROLEBIT(MU_ROLE_EMBED) | MU_ROLEBIT(MU_ROLE_HEAD) | MU_ROLEBIT(MU_ROLE_GAIN) | MU_ROLEBIT(MU_ROLE_BIAS))
#define SPLIT_BIND {"split", MU_SRC_QKV_SPLIT, 1}
/* momentum with the Nesterov look-ahead (spec: `ema -> nesterov`, one link here) */
#define MOMENTUM_LINK(tr) \
    {&tr, {{"beta", MU_SRC_MOMENTUM, 0}, {"nesterov", MU_SRC_CONST, 1}, {NULL, 0, 0}}}
/* kind: mu_orth_kind_t, 0 ns5, 1 pe, 4 exact (config orth_kind / orth_steps override) */
#define ORTH_LINK(kind)                                                                               \
    {&mu_tr_orth,                                                                                     \
     {{"kind", MU_SRC_ORTH_KIND, kind}, {"steps", MU_SRC_ORTH_STEPS, 5}, {"prec", MU_SRC_ORTH_PREC, 0}, \
      SPLIT_BIND, {NULL, 0, 0}}}
/* mode: 0 keller, 1 moonlight, 2 spectral (config scale_mode overrides) */
#define SCALE_LINK(mode) {&mu_tr_shape_scale, {{"mode", MU_SRC_SCALE, mode}, SPLIT_BIND, {NULL, 0, 0}}}
#define RENORM_LINK \
    {&mu_tr_spectral_renorm, {{"iters", MU_SRC_POWER_ITERS, 24}, SPLIT_BIND, {NULL, 0, 0}}}
#define ADAPTIVE_LINK                                                                              \
    {&mu_tr_adaptive,                                                                              \
     {{"on", MU_SRC_ADAPTIVE, 0}, {"kappa", MU_SRC_KAPPA, 1}, {"wd", MU_SRC_WD, 0}, SPLIT_BIND, \
      {NULL, 0, 0}}}
#define MATRIX_GROUP(...) \
    {.name = "matrix", .roles = MU_ROLEBIT(MU_ROLE_HIDDEN), .decay = MU_SEL_ANY, .lr_src = MU_SRC_LR, \
     .lr_mult = 1.0f, .chain = {__VA_ARGS__, DECAY_LR_LINK, APPLY_LINK, END_LINK}}
#define AUX_GROUPS                                                                                       \
    {.name = "aux_decay", .roles = ROLES_AUX, .decay = MU_SEL_DECAYED, .lr_src = MU_SRC_AUX_LR,           \
     .lr_mult = 1.0f, .chain = {ADAM_LINK, DECAY_LR_LINK, APPLY_LINK, END_LINK}},                        \
    {.name = "aux_no_decay", .roles = ROLES_AUX, .decay = MU_SEL_UNDECAYED, .lr_src = MU_SRC_AUX_LR,     \
     .lr_mult = 1.0f, .chain = {ADAM_LINK, APPLY_LINK, END_LINK}},                                       \
    {.name = NULL}
/* Keller's defaults: matrix lr 0.02, beta 0.95, no WD; aux AdamW (0.9, 0.95), eps 1e-10 */
#define KELLER_DEFAULTS                                                                                 \
    {{MU_SRC_LR, 0.02f}, {MU_SRC_MOMENTUM, 0.95f}, {MU_SRC_WD, 0.0f}, {MU_SRC_BETA1, 0.9f}, \
     {MU_SRC_BETA2, 0.95f}, {MU_SRC_EPS, 1e-10f}}

static const mu_preset_t presets[] = {
    {
        .name = "adamw",
        .summary = "AdamW on every parameter; no weight decay on gains/biases by default",
        .source = "Loshchilov & Hutter, Decoupled Weight Decay Regularization (ICLR 2019); "
                  "nanoGPT configure_optimizers (decay on all 2-D params)",
        .confidence = "code",
        .defaults = {{MU_SRC_LR, 1e-3f}, {MU_SRC_BETA1, 0.9f}, {MU_SRC_BETA2, 0.95f},
                     {MU_SRC_EPS, 1e-8f}, {MU_SRC_WD, 0.1f}},
        .groups =
            {
                {.name = "decay", .roles = MU_ROLES_ALL, .decay = MU_SEL_DECAYED, .lr_src = MU_SRC_LR,
                 .lr_mult = 1.0f, .chain = {ADAM_LINK, DECAY_LR_LINK, APPLY_LINK, END_LINK}},
                {.name = "no_decay", .roles = MU_ROLES_ALL, .decay = MU_SEL_UNDECAYED,
                 .lr_src = MU_SRC_LR, .lr_mult = 1.0f, .chain = {ADAM_LINK, APPLY_LINK, END_LINK}},
                {.name = NULL},
            },
    },
    {
        .name = "sgd",
        .summary = "SGD with sum momentum (PyTorch convention), optional Nesterov, decoupled WD",
        .source = "Polyak 1964 (heavy ball); Sutskever et al. ICML 2013 (Nesterov form); "
                  "torch.optim.SGD buffer convention (dampening 0)",
        .confidence = "code",
        .defaults = {{MU_SRC_LR, 1e-3f}, {MU_SRC_MOMENTUM, 0.9f}, {MU_SRC_NESTEROV, 0.0f},
                     {MU_SRC_WD, 0.1f}},
        .groups =
            {
                {.name = "decay", .roles = MU_ROLES_ALL, .decay = MU_SEL_DECAYED, .lr_src = MU_SRC_LR,
                 .lr_mult = 1.0f, .chain = {SUM_LINK, DECAY_LR_LINK, APPLY_LINK, END_LINK}},
                {.name = "no_decay", .roles = MU_ROLES_ALL, .decay = MU_SEL_UNDECAYED,
                 .lr_src = MU_SRC_LR, .lr_mult = 1.0f, .chain = {SUM_LINK, APPLY_LINK, END_LINK}},
                {.name = NULL},
            },
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

#define N_PRESETS ((int32_t)(sizeof presets / sizeof presets[0]))

int32_t mu_preset_count(void) { return N_PRESETS; }

const mu_preset_t *mu_preset_at(int32_t i) { return i >= 0 && i < N_PRESETS ? &presets[i] : NULL; }

const mu_preset_t *mu_preset_find(const char *name) {
    for (int32_t i = 0; i < N_PRESETS; i++)
        if (name && strcmp(presets[i].name, name) == 0) return &presets[i];
    return NULL;
}

int mu_preset_list(char *buf, size_t cap) {
    size_t len = 0;
    if (cap) buf[0] = 0;
    for (int32_t i = 0; i < N_PRESETS; i++)
        len = mu_str_append(buf, cap, len, "%s%s", i ? ", " : "", presets[i].name);
    return MU_OK;
}
