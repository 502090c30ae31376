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
