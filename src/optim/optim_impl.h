/* optim_impl.h — internal: presets as data, parameter groups, the optimizer object.
 *
 * A preset (presets.c) is a table row: name -> groups -> chains -> defaults ->
 * source. A group spec selects registry records by role (and by whether they
 * take weight decay under the config) and names a chain whose hyperparameters
 * are either constants or bound to config fields (mu_src_t). No code in presets.
 */
#ifndef MU_OPTIM_IMPL_H
#define MU_OPTIM_IMPL_H

#include "muon/optim.h"
#include "optim/transform.h"

#define MU_PRESET_MAX_GROUPS 6
#define MU_PRESET_MAX_DEFAULTS 8
#define MU_GROUP_NAME_MAX 32
#define MU_PRESET_NAME_MAX 32

/* Where a hyperparameter value comes from. */
typedef enum {
    MU_SRC_CONST = 0,  /* the literal value in the row */
    MU_SRC_LR,         /* cfg->lr */
    MU_SRC_AUX_LR,     /* cfg->aux_lr, or the preset's aux_lr default when <= 0 */
    MU_SRC_WD,         /* cfg->weight_decay */
    MU_SRC_BETA1,
    MU_SRC_BETA2,
    MU_SRC_EPS,
    MU_SRC_MOMENTUM,
    MU_SRC_NESTEROV,
    /* the fields below fall back to the row's value when the config leaves them unset */
    MU_SRC_QKV_SPLIT,
    MU_SRC_ORTH_KIND,
    MU_SRC_ORTH_STEPS,
    MU_SRC_ORTH_PREC,
    MU_SRC_SCALE,
    MU_SRC_POWER_ITERS,
    MU_SRC_ADAPTIVE,
    MU_SRC_KAPPA,
    MU_SRC_WD_MODE     /* cfg->wd_mode (decay links of every preset) */
} mu_src_t;

typedef struct {
    const char *key;   /* NULL ends the list */
    mu_src_t src;
    float value;       /* MU_SRC_CONST; the preset's default for a config field left unset */
} mu_bind_t;

typedef struct {
    const mu_transform_t *tr;  /* NULL ends the chain */
    mu_bind_t bind[MU_TR_MAX_KEYS];
} mu_link_spec_t;

/* Weight-decay selector: the config decides which roles take weight decay
 * (mu_param_decayed); a group can take only decayed or only undecayed records. */
typedef enum { MU_SEL_ANY = 0, MU_SEL_DECAYED = 1, MU_SEL_UNDECAYED = 2 } mu_decay_sel_t;

#define MU_ROLEBIT(r) (1u << (r))
#define MU_ROLES_ALL                                                                      \
    (MU_ROLEBIT(MU_ROLE_EMBED) | MU_ROLEBIT(MU_ROLE_HIDDEN) | MU_ROLEBIT(MU_ROLE_HEAD) | \
     MU_ROLEBIT(MU_ROLE_GAIN) | MU_ROLEBIT(MU_ROLE_BIAS))

typedef struct {
    const char *name;          /* NULL ends the group list */
    uint32_t roles;            /* MU_ROLEBIT mask */
    mu_decay_sel_t decay;
    mu_src_t lr_src;           /* MU_SRC_LR or MU_SRC_AUX_LR */
    float lr_mult;             /* group LR = lr_src value x lr_mult */
    mu_link_spec_t chain[MU_CHAIN_MAX];
} mu_group_spec_t;

typedef struct {
    mu_src_t field;            /* MU_SRC_CONST ends the list */
    float value;
} mu_default_t;

typedef struct {
    const char *name;          /* "adamw" */
    const char *summary;       /* one line */
    const char *source;        /* paper / repository */
    const char *confidence;    /* code | paper | abstract-only | reconstruction */
    float aux_lr;              /* default aux LR when cfg->aux_lr <= 0 (0: = cfg->lr) */
    mu_default_t defaults[MU_PRESET_MAX_DEFAULTS]; /* recommended config overrides */
    mu_group_spec_t groups[MU_PRESET_MAX_GROUPS];  /* first matching group wins */
} mu_preset_t;

/* presets.c */
const mu_preset_t *mu_preset_find(const char *name);
int mu_preset_list(char *buf, size_t cap);   /* "adamw, sgd" */
int32_t mu_preset_count(void);
const mu_preset_t *mu_preset_at(int32_t i);

/* A built group: registry indices plus a concrete chain. */
typedef struct {
    char name[MU_GROUP_NAME_MAX];
    float lr;                  /* base LR (before the schedule factor) */
    int32_t n_links;
    mu_tstep_t links[MU_CHAIN_MAX];
    int32_t n_members;
    int32_t *members;          /* registry indices, registry order */
    size_t *state_off;         /* per member: offset in floats into the state arena */
    float *lr_mult;            /* per member: μP LR multiplier (mup.c); NULL = all 1 (SP) */
    int32_t grad_carry;        /* 1: the chain's leading ema lives in the gradients (momentum_in_grad) */
    float grad_beta;           /* its β: gradients *= β after each step */
} mu_group_t;

/* group.c */
int mu_param_decayed(const mu_param_t *p, const mu_optim_config_t *cfg);
int mu_group_matches(const mu_group_spec_t *gs, const mu_param_t *p, const mu_optim_config_t *cfg);
/* A config field's value; NAN when the field is unset (orth_kind -1, ...): use the row's. */
float mu_src_value(mu_src_t src, const mu_optim_config_t *cfg, const mu_preset_t *pr);
/* Fill groups (n_groups entries) from the preset; every record must land in one. */
int mu_groups_build(mu_group_t *groups, const mu_preset_t *pr, const mu_optim_config_t *cfg,
                    const mu_param_t *params, int32_t n_params);
void mu_groups_free(mu_group_t *groups, int32_t n_groups);
const char *mu_role_str(int32_t role);

/* mup.c: the family of a group's chain, and the per-member μP LR multipliers (cfg->param) */
int32_t mu_mup_group_family(const mu_group_t *G);
int mu_mup_apply(mu_group_t *groups, int32_t n_groups, const mu_param_t *params, const mu_optim_config_t *cfg);

/* grad_carry.c: momentum kept in the gradients (cfg->momentum_in_grad, Scion's light form).
 * setup: validate every group (ema -> scale-invariant lmo) and drop its ema link; decay: the
 * group's gradients *= β after its step; floats/save/load: the gradients the state file carries. */
int mu_grad_carry_setup(mu_optim_t *o);
void mu_grad_carry_decay(mu_optim_t *o, const mu_group_t *G);
size_t mu_grad_carry_floats(const mu_optim_t *o);
void mu_grad_carry_save(const mu_optim_t *o, void *dst);
void mu_grad_carry_load(mu_optim_t *o, const void *src);

/* hparam.c: apply cfg->hparams (structural keys allowed); called by mu_optim_init */
int mu_optim_apply_config_hparams(mu_optim_t *o, const mu_optim_config_t *cfg);

struct mu_optim {
    mu_optim_config_t cfg;
    char preset_name[MU_PRESET_NAME_MAX];
    const mu_preset_t *preset;
    mu_param_t *params;        /* borrowed registry */
    int32_t n_params;
    mu_gemm_ctx_t *gemm;
    int32_t n_groups;
    mu_group_t groups[MU_PRESET_MAX_GROUPS];
    float *state;              /* the state arena: one allocation */
    size_t state_floats;
    float *U;                  /* working update buffer, max numel floats */
    float *scratch;            /* max scratch_size floats (NULL when no link needs it) */
    size_t scratch_floats;
    float *ubatch;             /* batched chains (step.c): the window's U, members back to back */
    size_t ubatch_floats;
    float **bU;                /*   per window member: its U in ubatch, */
    mu_param_t **bparams;      /*   the member, */
    mu_tctx_t *bctx;           /*   and its context (LR) between the two halves of the chain */
    int64_t steps;             /* steps done */
    int64_t lookahead_step;    /* the step mu_optim_lookahead last prepared (steps + 1), else 0 */
    float **gstates;           /* group-link runs (step.c): per member, the group link's state */
    const mu_param_t **gparams;/*   and the member (max members of a group with a group link) */
    struct mu_probe *probe;    /* diagnostics tap (probe.h), created by mu_optim_probe; NULL until then */
    int32_t probe_on;          /* 1: the next steps run with ctx.probe set */
};

#endif
