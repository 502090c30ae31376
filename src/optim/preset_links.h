/* preset_links.h — chain pieces shared by the preset tables of every family (data only).
 * A link binds each hyperparameter of a transform to a config source (MU_SRC_*) or a
 * constant; see optim_impl.h. */
#ifndef MU_OPTIM_PRESET_LINKS_H
#define MU_OPTIM_PRESET_LINKS_H

#include "optim/optim_impl.h"

/* Chain pieces shared by the rows. */
#define ADAM_LINK                                                                        \
    {&mu_tr_adam,                                                                        \
     {{"b1", MU_SRC_BETA1, 0}, {"b2", MU_SRC_BETA2, 0}, {"eps", MU_SRC_EPS, 0}, {NULL, 0, 0}}}
/* decay (mode lr), wd bound to `src` (MU_SRC_CONST: the value wd), wd_mode to the config */
#define WD_MODE_BIND {"wd_mode", MU_SRC_WD_MODE, 0}
#define DECAY_LINK(src, wd) {&mu_tr_decay, {{"wd", src, wd}, {"mode", MU_SRC_CONST, 0}, WD_MODE_BIND, {NULL, 0, 0}}}
#define DECAY_LR_LINK DECAY_LINK(MU_SRC_WD, 0)
#define SUM_LINK \
    {&mu_tr_sum, {{"beta", MU_SRC_MOMENTUM, 0}, {"nesterov", MU_SRC_NESTEROV, 0}, {NULL, 0, 0}}}
/* momentum link tr (mu_tr_ema or mu_tr_sum) with beta from `src` and a fixed Nesterov flag */
#define MOM_LINK(tr, src, nesterov) {&tr, {{"beta", src, 0}, {"nesterov", MU_SRC_CONST, nesterov}, {NULL, 0, 0}}}
#define SIGN_LINK {&mu_tr_sign, {{NULL, 0, 0}}}
#define APPLY_LINK {&mu_tr_apply, {{NULL, 0, 0}}}
#define END_LINK {NULL, {{NULL, 0, 0}}}

/* Two groups over `roles` split by weight-decay eligibility (mu_param_decayed): the chain
 * given in the variadic part, then decay_link before apply only in the decayed group. */
#define DECAY_SPLIT_GROUPS(name_, name_no_decay_, roles_, lr_src_, decay_link_, ...)                          \
    {.name = name_, .roles = roles_, .decay = MU_SEL_DECAYED, .lr_src = lr_src_, .lr_mult = 1.0f,             \
     .chain = {__VA_ARGS__, decay_link_, APPLY_LINK, END_LINK}},                                              \
    {.name = name_no_decay_, .roles = roles_, .decay = MU_SEL_UNDECAYED, .lr_src = lr_src_, .lr_mult = 1.0f, \
     .chain = {__VA_ARGS__, APPLY_LINK, END_LINK}}

/* Every parameter through one chain (AdamW, SGD, Lion): groups "decay" and "no_decay" */
#define ALL_GROUPS(...) \
    DECAY_SPLIT_GROUPS("decay", "no_decay", MU_ROLES_ALL, MU_SRC_LR, DECAY_LR_LINK, __VA_ARGS__), {.name = NULL}

/* Orthogonalizing presets: hidden matrices get the matrix chain, the rest AdamW (aux). */
#define ROLES_AUX \
    (MU_ROLEBIT(MU_ROLE_EMBED) | MU_ROLEBIT(MU_ROLE_HEAD) | MU_ROLEBIT(MU_ROLE_GAIN) | MU_ROLEBIT(MU_ROLE_BIAS))
#define SPLIT_BIND {"split", MU_SRC_QKV_SPLIT, 1}
/* momentum with the Nesterov look-ahead (spec: `ema -> nesterov`, one link here) */
#define MOMENTUM_LINK(tr) MOM_LINK(tr, MU_SRC_MOMENTUM, 1)
/* ema without the Nesterov look-ahead (paper forms, PolarGrad, RMNP README) */
#define EMA_PLAIN_LINK MOM_LINK(mu_tr_ema, MU_SRC_MOMENTUM, 0)
/* rms_match(rho) per logical matrix; eps bound to `eps_src` (MU_SRC_CONST: the value eps) */
#define RMS_LINK(rho, eps_src, eps) \
    {&mu_tr_rms_match, {{"rho", MU_SRC_CONST, rho}, {"eps", eps_src, eps}, SPLIT_BIND, {NULL, 0, 0}}}
/* kind: mu_orth_kind_t, 0 ns5, 1 pe, 4 exact (config orth_kind / orth_steps override) */
#define ORTH_LINK(kind)                                                                               \
    {&mu_tr_orth,                                                                                     \
     {{"kind", MU_SRC_ORTH_KIND, kind}, {"steps", MU_SRC_ORTH_STEPS, 5}, {"prec", MU_SRC_ORTH_PREC, 0}, \
      SPLIT_BIND, {NULL, 0, 0}}}
/* mode: 0 keller, 1 moonlight, 2 spectral (config scale_mode overrides) */
#define SCALE_LINK(mode) {&mu_tr_shape_scale, {{"mode", MU_SRC_SCALE, mode}, SPLIT_BIND, {NULL, 0, 0}}}
/* muonpp: σ̂_max by 16 warm Lanczos steps (method 1; 0 = power iteration, --power-iters overrides iters) */
#define RENORM_LINK                                                                             \
    {&mu_tr_spectral_renorm,                                                                    \
     {{"iters", MU_SRC_POWER_ITERS, 16}, {"method", MU_SRC_CONST, 1}, SPLIT_BIND, {NULL, 0, 0}}}
#define ADAPTIVE_LINK                                                                              \
    {&mu_tr_adaptive,                                                                              \
     {{"on", MU_SRC_ADAPTIVE, 0}, {"kappa", MU_SRC_KAPPA, 1}, {"wd", MU_SRC_WD, 0}, SPLIT_BIND, \
      WD_MODE_BIND, {NULL, 0, 0}}}
#define MATRIX_GROUP(...) \
    {.name = "matrix", .roles = MU_ROLEBIT(MU_ROLE_HIDDEN), .decay = MU_SEL_ANY, .lr_src = MU_SRC_LR, \
     .lr_mult = 1.0f, .chain = {__VA_ARGS__, DECAY_LR_LINK, APPLY_LINK, END_LINK}}
/* AdamW on the aux roles at the aux LR, decayed where eligible (DECAY_LINK(src, wd)) */
#define AUX_GROUPS_WD(src, wd)                                                                                   \
    DECAY_SPLIT_GROUPS("aux_decay", "aux_no_decay", ROLES_AUX, MU_SRC_AUX_LR, DECAY_LINK(src, wd), ADAM_LINK), \
        {.name = NULL}
#define AUX_GROUPS AUX_GROUPS_WD(MU_SRC_WD, 0)
/* Keller's defaults: matrix lr 0.02, beta 0.95, no WD; aux AdamW (0.9, 0.95), eps 1e-10 */
#define KELLER_DEFAULTS                                                                                 \
    {{MU_SRC_LR, 0.02f}, {MU_SRC_MOMENTUM, 0.95f}, {MU_SRC_WD, 0.0f}, {MU_SRC_BETA1, 0.9f}, \
     {MU_SRC_BETA2, 0.95f}, {MU_SRC_EPS, 1e-10f}}

#endif
