/* grad_carry.c — momentum kept in the gradient buffer (Scion's light form, `--scion-light`;
 * optimizers-lmo.md §4, LIONS-EPFL/scion). The optimizer config's momentum_in_grad.
 *
 * Scion's chain starts ema(β) → lmo: D_t = βD_{t−1} + (1−β)G_t, U = ρ·lmo(D_t). Every lmo
 * kind is invariant to a positive scale of its input (up to its ε), so the buffer
 *     B_t = βB_{t−1} + G_t = D_t/(1−β)
 * steps identically. B lives in the registry's gradients: the loop stops zeroing them,
 * the backward adds G_t, and after the step every member's gradient is multiplied by β.
 * The ema link and its numel floats of state per parameter are gone.
 *
 * Conditions, checked at init for every group: the chain starts ema (Polyak, not Nesterov)
 * followed by lmo without Gluon's step rule (l0 = l1 = 0, est off: those read the norm of
 * D). The state file carries the gradients after the arena, so a resumed run continues
 * bit-identically; the group signature says "grad_ema" so a checkpoint of one form does not
 * load into the other. */
#include "base/util.h"
#include "optim/optim_impl.h"

static int refuse(const mu_optim_t *o, const mu_group_t *G, const char *why) {
    return mu_set_error(MU_EINVAL,
                        "optim preset '%s': momentum in the gradient buffer (--scion-light) needs every group's "
                        "chain to start ema -> lmo with a scale-invariant lmo (scion, scion-unconstrained); "
                        "group '%s' %s",
                        o->preset_name, G->name, why);
}

static float hp(const mu_tstep_t *s, const char *key) {
    const int i = mu_tstep_key(s, key);
    return i < 0 ? 0.0f : s->hp[i];
}

int mu_grad_carry_setup(mu_optim_t *o) {
    for (int32_t g = 0; g < o->n_groups; g++) {
        mu_group_t *G = &o->groups[g];
        if (G->n_links < 2 || G->links[0].tr != &mu_tr_ema) return refuse(o, G, "does not start with ema");
        if (hp(&G->links[0], "nesterov") != 0.0f) return refuse(o, G, "uses Nesterov momentum");
        const mu_tstep_t *l = &G->links[1];
        if (l->tr != &mu_tr_lmo) return refuse(o, G, "has no lmo right after its ema");
        if (hp(l, "l0") + hp(l, "l1") > 0.0f || hp(l, "est") != 0.0f)
            return refuse(o, G, "uses Gluon's step rule (lmo.l0/l1/est), which reads the momentum's norm");
        G->grad_carry = 1;
        G->grad_beta = hp(&G->links[0], "beta");
        memmove(&G->links[0], &G->links[1], sizeof(G->links[0]) * (size_t)(G->n_links - 1));
        G->n_links--;
    }
    return MU_OK;
}

int mu_optim_keeps_grad(const mu_optim_t *o) { return o && o->n_groups > 0 && o->groups[0].grad_carry; }

void mu_grad_carry_decay(mu_optim_t *o, const mu_group_t *G) {
    if (!G->grad_carry) return;
    const float b = G->grad_beta;
    for (int32_t j = 0; j < G->n_members; j++) {
        mu_param_t *p = &o->params[G->members[j]];
#pragma omp parallel for schedule(static) if (p->numel >= 65536)
        for (int64_t i = 0; i < p->numel; i++) p->grad[i] *= b;
    }
}

size_t mu_grad_carry_floats(const mu_optim_t *o) {
    size_t n = 0;
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        if (!G->grad_carry) continue;
        for (int32_t j = 0; j < G->n_members; j++) n += (size_t)o->params[G->members[j]].numel;
    }
    return n;
}

/* The carried gradients, group by group, member by member, to or from buf (any alignment;
 * mu_grad_carry_floats(o) floats). */
void mu_grad_carry_save(const mu_optim_t *o, void *dst) {
    unsigned char *b = dst;
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        for (int32_t j = 0; G->grad_carry && j < G->n_members; j++) {
            const mu_param_t *p = &o->params[G->members[j]];
            memcpy(b, p->grad, sizeof(float) * (size_t)p->numel);
            b += sizeof(float) * (size_t)p->numel;
        }
    }
}

void mu_grad_carry_load(mu_optim_t *o, const void *src) {
    const unsigned char *b = src;
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        for (int32_t j = 0; G->grad_carry && j < G->n_members; j++) {
            mu_param_t *p = &o->params[G->members[j]];
            memcpy(p->grad, b, sizeof(float) * (size_t)p->numel);
            b += sizeof(float) * (size_t)p->numel;
        }
    }
}
