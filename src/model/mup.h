/* mup.h — internal to src/model: the μP weight init (spec mup-and-muonpp.md §1-§2). */
#ifndef MU_MODEL_MUP_H
#define MU_MODEL_MUP_H

#include "muon/model.h"

/* Initialises every record of the registry for c->param == MU_PARAM_MUP with c->mup_init;
 * record i draws from mu_rng_at(seed, i, 0, 0) like the SP init. */
int mu_gpt_mup_init_params(mu_param_t *params, int32_t n, const mu_gpt_config_t *c, uint64_t seed);

#endif
