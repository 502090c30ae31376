/* family_adaptive.c — the adaptive Muons: NorMuon, AdaMuon, NAMO, NAMO-D, RMNP, PolarGrad
 * (optimizers-lmo.md §6-§9, §11). Presets are table rows built from preset_links.h pieces;
 * the transforms this family introduces (one file each) are listed below.
 * Keys a method needs beyond the config are bound as constants to the method's defaults
 * (override: mu_optim_set_hparam("matrix.row_moment.b2", v), CLI --opt). Per-neuron rules
 * take `axis = neuron` (output rows; columns of an embedding table), see lines.h. */
#include "optim/family.h"
#include "optim/lines.h"
#include "optim/preset_links.h"

#define SUM_PLAIN_LINK MOM_LINK(mu_tr_sum, MU_SRC_MOMENTUM, 0)
#define CAPTURE_LINK(what) {&mu_tr_capture, {{"what", MU_SRC_CONST, what}, SPLIT_BIND, {NULL, 0, 0}}}
#define AXIS_BIND {"axis", MU_SRC_CONST, MU_AXIS_NEURON}
/* eps_mode: 0 outside, 1 inside */
#define ROW_MOMENT_LINK(eps, mode)                                                                        \
    {&mu_tr_row_moment,                                                                                   \
     {{"b2", MU_SRC_CONST, 0.95f}, {"eps", MU_SRC_CONST, eps}, {"eps_mode", MU_SRC_CONST, mode}, AXIS_BIND, \
      SPLIT_BIND, {NULL, 0, 0}}}
#define FROB_MATCH_LINK {&mu_tr_frob_match, {{"eps", MU_SRC_CONST, 1e-10f}, {NULL, 0, 0}}}
/* AdaMuon: the second moment's beta is the momentum's (spec §7 pitfall) */
#define ELEM_MOMENT_LINK {&mu_tr_elem_moment, {{"b2", MU_SRC_MOMENTUM, 0}, {"eps", MU_SRC_CONST, 1e-8f}, {NULL, 0, 0}}}
/* kind: 0 scalar (NAMO), 1 col (NAMO-D) */
#define NORM_ADAPT_LINK(kind, c)                                                                        \
    {&mu_tr_norm_adapt,                                                                                 \
     {{"kind", MU_SRC_CONST, kind}, {"b1", MU_SRC_MOMENTUM, 0}, {"b2", MU_SRC_CONST, 0.99f},           \
      {"eps", MU_SRC_CONST, 1e-8f}, {"c", MU_SRC_CONST, c}, {"wd", MU_SRC_WD, 0}}}
/* mode: 0 max (code), 1 add (README) */
#define ROW_NORM_LINK(eps, mode) \
    {&mu_tr_row_normalize, {{"eps", MU_SRC_CONST, eps}, {"mode", MU_SRC_CONST, mode}, AXIS_BIND, SPLIT_BIND, {NULL, 0, 0}}}
#define NUCLEAR_LINK {&mu_tr_nuclear_scale, {{NULL, 0, 0}}}

/* NAMO: the matrix group takes its own decay (in norm_adapt); aux AdamW at the same lr, no WD */
#define NAMO_GROUPS(kind, c)                                                                                   \
    {{.name = "matrix", .roles = MU_ROLEBIT(MU_ROLE_HIDDEN), .decay = MU_SEL_ANY, .lr_src = MU_SRC_LR,           \
      .lr_mult = 1.0f,                                                                                         \
      .chain = {MOMENTUM_LINK(mu_tr_ema), CAPTURE_LINK(kind), ORTH_LINK(0), NORM_ADAPT_LINK(kind, c), APPLY_LINK, \
                END_LINK}},                                                                                    \
     {.name = "aux", .roles = ROLES_AUX, .decay = MU_SEL_ANY, .lr_src = MU_SRC_AUX_LR, .lr_mult = 1.0f,          \
      .chain = {ADAM_LINK, APPLY_LINK, END_LINK}},                                                             \
     {.name = NULL}}
#define NAMO_DEFAULTS(lr)                                                                                    \
    {{MU_SRC_LR, lr}, {MU_SRC_MOMENTUM, 0.95f}, {MU_SRC_WD, 0.1f}, {MU_SRC_BETA1, 0.9f}, {MU_SRC_BETA2, 0.95f}, \
     {MU_SRC_EPS, 1e-8f}}

/* RMNP: aux AdamW with its own weight decay 0.1 while the matrix group has none (mode unbound) */
#define RMNP_AUX_DECAY {&mu_tr_decay, {{"wd", MU_SRC_CONST, 0.1f}, WD_MODE_BIND, {NULL, 0, 0}}}
#define RMNP_AUX_GROUPS \
    DECAY_SPLIT_GROUPS("aux_decay", "aux_no_decay", ROLES_AUX, MU_SRC_AUX_LR, RMNP_AUX_DECAY, ADAM_LINK), {.name = NULL}
#define RMNP_DEFAULTS                                                                                          \
    {{MU_SRC_LR, 4e-3f}, {MU_SRC_MOMENTUM, 0.95f}, {MU_SRC_WD, 0.0f}, {MU_SRC_BETA1, 0.9f}, {MU_SRC_BETA2, 0.95f}, \
     {MU_SRC_EPS, 1e-8f}}

static const mu_preset_t presets[] = {
    {
        .name = "normuon",
        .summary = "NorMuon (authors' code): Muon + per-row second moment after orth, Frobenius norm kept, "
                   "Keller scale",
        .source = "Li et al., NorMuon, arXiv 2510.05491; zichongli5/NorMuon normuon.py (optimizers-lmo.md §6)",
        .confidence = "code",
        .aux_lr = 3e-4f,
        .defaults = KELLER_DEFAULTS,
        .groups = {MATRIX_GROUP(MOMENTUM_LINK(mu_tr_ema), ORTH_LINK(0), CAPTURE_LINK(0), ROW_MOMENT_LINK(1e-10f, 0),
                                FROB_MATCH_LINK, SCALE_LINK(0)),
                   AUX_GROUPS},
    },
    {
        .name = "normuon-paper",
        .summary = "NorMuon (paper Alg. 1 / optax): no Nesterov, eps inside the sqrt, update RMS 0.2",
        .source = "Li et al., NorMuon, arXiv 2510.05491 Alg. 1; optax scale_by_normuon (optimizers-lmo.md §6)",
        .confidence = "paper",
        .aux_lr = 0.0f,  // RMS 0.2 updates: AdamW's lr for every group
        .defaults = {{MU_SRC_LR, 1e-3f}, {MU_SRC_MOMENTUM, 0.95f}, {MU_SRC_WD, 0.1f}, {MU_SRC_BETA1, 0.9f},
                     {MU_SRC_BETA2, 0.95f}, {MU_SRC_EPS, 1e-8f}},
        .groups = {MATRIX_GROUP(EMA_PLAIN_LINK, ORTH_LINK(0), ROW_MOMENT_LINK(1e-8f, 1), RMS_LINK(0.2f, MU_SRC_CONST, 0.0f)),
                   AUX_GROUPS},
    },
    {
        .name = "adamuon",
        .summary = "AdaMuon (authors' code): orth of sign(Nesterov momentum), element-wise second moment, "
                   "update RMS 0.2",
        .source = "Si et al., AdaMuon, arXiv 2507.11005; Chongjie-Si/AdaMuon gpt2/models/optimizers/adamuon.py "
                  "(optimizers-lmo.md §7)",
        .confidence = "code",
        .aux_lr = 0.0f,
        .defaults = {{MU_SRC_LR, 6e-4f}, {MU_SRC_MOMENTUM, 0.95f}, {MU_SRC_WD, 0.1f}, {MU_SRC_BETA1, 0.9f},
                     {MU_SRC_BETA2, 0.95f}, {MU_SRC_EPS, 1e-8f}},
        .groups = {MATRIX_GROUP(MOMENTUM_LINK(mu_tr_ema), SIGN_LINK, ORTH_LINK(0), ELEM_MOMENT_LINK,
                                RMS_LINK(0.2f, MU_SRC_CONST, 1e-8f)),
                   AUX_GROUPS},
    },
    {
        .name = "adamuon-paper",
        .summary = "AdaMuon (paper Alg. 1): sum momentum without Nesterov, orth(sign(M)), element-wise second "
                   "moment, update RMS 0.2",
        .source = "Si et al., AdaMuon, arXiv 2507.11005 Alg. 1 (optimizers-lmo.md §7)",
        .confidence = "paper",
        .aux_lr = 0.0f,
        .defaults = {{MU_SRC_LR, 6e-4f}, {MU_SRC_MOMENTUM, 0.95f}, {MU_SRC_WD, 0.1f}, {MU_SRC_BETA1, 0.9f},
                     {MU_SRC_BETA2, 0.95f}, {MU_SRC_EPS, 1e-8f}},
        .groups = {MATRIX_GROUP(SUM_PLAIN_LINK, SIGN_LINK, ORTH_LINK(0), ELEM_MOMENT_LINK, RMS_LINK(0.2f, MU_SRC_CONST, 1e-8f)),
                   AUX_GROUPS},
    },
    {
        .name = "namo",
        .summary = "NAMO: Muon direction with an Adam-style scalar step size per matrix (clamped), adaptive WD",
        .source = "arXiv 2602.17080 (abstract); minxin-zhg/namo src/namo.py (optimizers-lmo.md §8)",
        .confidence = "code",
        .aux_lr = 0.0f,  // aux AdamW at NAMO's lr, no weight decay (authors' configs)
        .defaults = NAMO_DEFAULTS(0.012f),
        .groups = NAMO_GROUPS(0, 0.75f),
    },
    {
        .name = "namo-d",
        .summary = "NAMO-D: NAMO with one clamped step size per input column",
        .source = "arXiv 2602.17080 (abstract); minxin-zhg/namo src/namo.py, GPT-2 config c = 0.01 "
                  "(optimizers-lmo.md §8)",
        .confidence = "code",
        .aux_lr = 0.0f,
        .defaults = NAMO_DEFAULTS(0.009f),
        .groups = NAMO_GROUPS(1, 0.01f),
    },
    {
        .name = "rmnp",
        .summary = "RMNP (authors' code): row-normalized Nesterov sum momentum instead of Newton-Schulz, Keller "
                   "scale",
        .source = "arXiv 2603.20527; Dominator-Index/RMNP GPT-2/RMNP/optimizers/rmnp.py (optimizers-lmo.md §9)",
        .confidence = "code",
        .aux_lr = 3e-3f,
        .defaults = RMNP_DEFAULTS,
        .groups = {MATRIX_GROUP(MOMENTUM_LINK(mu_tr_sum), ROW_NORM_LINK(1e-12f, 0), SCALE_LINK(0)), RMNP_AUX_GROUPS},
    },
    {
        .name = "rmnp-readme",
        .summary = "RMNP as its README states it: ema momentum, rows / (norm + eps), plain step (no WD, no scale)",
        .source = "Dominator-Index/RMNP README (optimizers-lmo.md §9); eps 1e-8 is our choice",
        .confidence = "code (README)",
        .aux_lr = 3e-3f,
        .defaults = RMNP_DEFAULTS,
        .groups = {{.name = "matrix", .roles = MU_ROLEBIT(MU_ROLE_HIDDEN), .decay = MU_SEL_ANY, .lr_src = MU_SRC_LR,
                    .lr_mult = 1.0f, .chain = {EMA_PLAIN_LINK, ROW_NORM_LINK(1e-8f, 1), APPLY_LINK, END_LINK}},
                   RMNP_AUX_GROUPS},
    },
    {
        .name = "polargrad",
        .summary = "PolarGrad: polar factor of the momentum scaled by its nuclear norm <M, orth(M)> (exact SVD)",
        .source = "Lau et al., PolarGrad, arXiv 2505.21799; timlautk/polargrad polar_grad.py "
                  "(optimizers-lmo.md §11); QDWH replaced by orth(exact)",
        .confidence = "code",
        .aux_lr = 3e-4f,
        .defaults = KELLER_DEFAULTS,
        .groups = {MATRIX_GROUP(EMA_PLAIN_LINK, CAPTURE_LINK(2), ORTH_LINK(4), NUCLEAR_LINK), AUX_GROUPS},
    },
};

static const mu_transform_t *const transforms[] = {
    &mu_tr_capture,    &mu_tr_row_moment,    &mu_tr_frob_match,    &mu_tr_elem_moment,
    &mu_tr_norm_adapt, &mu_tr_row_normalize, &mu_tr_nuclear_scale,
};

MU_FAMILY(mu_family_adaptive, "adaptive", presets, transforms);
