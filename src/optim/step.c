/* step.c — one optimizer step (optimizers.md "How a step runs"): for each group, each member's
 * gradient is copied into the working buffer U and the group's chain runs on it.
 *
 * A chain with a group link (transform.h `reduce`, e.g. layer_lr) runs in two passes:
 *   pass 1   every member: U = G, the links before the group link, then its update
 *            (the member's statistic, kept in the link's state);
 *   reduce   once, over that state of every member (group order);
 *   pass 2   every member: U = G, the links before it replayed from their state (no state
 *            change: the same U as in pass 1), then the links after it, with ctx.lr scaled
 *            by the group link's per-member factor.
 * Pass 2 costs the replays (an ema: one elementwise pass); no per-member copy of U is kept.
 *
 * Look-ahead gradients (MARS exact, grad_diff mode=exact): mu_optim_lookahead hands the
 * registry's current gradients to the links that want them; the step then checks it ran.
 */
#include <math.h>

#include "base/util.h"
#include "optim/optim_impl.h"
#include "optim/probe.h"

/* The member's scheduled LR: base x schedule factor (x μP multiplier). */
static float member_lr(const mu_group_t *G, int32_t j, float lr_factor) {
    return G->lr_mult ? G->lr * lr_factor * G->lr_mult[j] : G->lr * lr_factor;
}

static int run_group_batched(mu_optim_t *o, const mu_group_t *G, const mu_tctx_t *base, float lr_factor,
                             int32_t bl) {
    const int32_t n = G->n_links;
    const mu_tstep_t *s = &G->links[bl];
    for (int32_t j0 = 0, j1; j0 < G->n_members; j0 = j1) {
        size_t off = 0;
        for (j1 = j0; j1 < G->n_members; j1++) {  // the window: whole members while they fit
            mu_param_t *p = &o->params[G->members[j1]];
            if (j1 > j0 && off + (size_t)p->numel > o->ubatch_floats) break;
            const int32_t w = j1 - j0;
            o->bU[w] = o->ubatch + off;
            o->bparams[w] = p;
            o->bctx[w] = *base;
            o->bctx[w].lr = member_lr(G, j1, lr_factor);
            off += (size_t)p->numel;
            memcpy(o->bU[w], p->grad, sizeof(float) * (size_t)p->numel);  // U starts as the gradient
            MU_TRY(mu_chain_run_links(G->links, n, 0, bl, &o->bctx[w], o->bU[w], o->state + G->state_off[j1], p, 0));
        }
        MU_TRY(s->tr->update_batch(s, base, o->bU, o->bparams, j1 - j0));
        for (int32_t j = j0; j < j1; j++) {
            const int32_t w = j - j0;
            MU_TRY(mu_chain_run_links(G->links, n, bl + 1, n, &o->bctx[w], o->bU[w], o->state + G->state_off[j],
                                      o->bparams[w], 0));
        }
    }
    return MU_OK;
}

static int run_group(mu_optim_t *o, const mu_group_t *G, const mu_tctx_t *base, float lr_factor) {
    const int32_t n = G->n_links, b = mu_chain_group_link(G->links, n), bl = mu_chain_batch_link(G->links, n);
    if (bl >= 0 && o->ubatch) return run_group_batched(o, G, base, lr_factor, bl);
    for (int32_t j = 0; j < G->n_members; j++) {  // pass 1 (the only pass without a group link)
        mu_param_t *p = &o->params[G->members[j]];
        mu_tctx_t ctx = *base;
        ctx.lr = member_lr(G, j, lr_factor);
        memcpy(o->U, p->grad, sizeof(float) * (size_t)p->numel);  // U starts as the gradient
        MU_TRY(mu_chain_run_links(G->links, n, 0, b < 0 ? n : b + 1, &ctx, o->U, o->state + G->state_off[j], p, 0));
    }
    if (b < 0) return MU_OK;
    const mu_tstep_t *gl = &G->links[b];
    for (int32_t j = 0; j < G->n_members; j++) {
        const mu_param_t *p = &o->params[G->members[j]];
        o->gparams[j] = p;
        o->gstates[j] = mu_chain_link_state(G->links, n, b, o->state + G->state_off[j], p);
    }
    MU_TRY(gl->tr->reduce(gl, o->gstates, o->gparams, G->n_members));
    for (int32_t j = 0; j < G->n_members; j++) {  // pass 2
        mu_param_t *p = &o->params[G->members[j]];
        float *st = o->state + G->state_off[j];
        mu_tctx_t ctx = *base;
        ctx.lr = member_lr(G, j, lr_factor);
        memcpy(o->U, p->grad, sizeof(float) * (size_t)p->numel);
        MU_TRY(mu_chain_run_links(G->links, n, 0, b, &ctx, o->U, st, p, 1));
        if (gl->tr->lr_scale) ctx.lr *= gl->tr->lr_scale(gl, mu_chain_link_state(G->links, n, b, st, p), p);
        MU_TRY(mu_chain_run_links(G->links, n, b + 1, n, &ctx, o->U, st, p, 0));
    }
    return MU_OK;
}

int mu_optim_step(mu_optim_t *o, float lr_factor) {
    MU_REQUIRE(o, "mu_optim_step: optimizer is NULL");
    MU_REQUIRE(isfinite(lr_factor) && lr_factor >= 0, "mu_optim_step: lr_factor = %g: must be finite and >= 0",
               (double)lr_factor);
    mu_tctx_t ctx = {.t = o->steps + 1, .lr_factor = lr_factor, .scratch = o->scratch,
                     .scratch_floats = o->scratch_floats, .gemm = o->gemm};
    ctx.lookahead = o->lookahead_step == o->steps + 1;
    if (o->probe_on) {  // diagnostics: links record into the probe during this step
        mu_probe_clear(o->probe);
        ctx.probe = o->probe;
    }
    for (int32_t g = 0; g < o->n_groups; g++) {
        MU_TRY(run_group(o, &o->groups[g], &ctx, lr_factor));
        mu_grad_carry_decay(o, &o->groups[g]);  // momentum in the gradients: B <- β·B (grad_carry.c)
    }
    o->steps++;
    return MU_OK;
}

int mu_optim_wants_lookahead(const mu_optim_t *o) {
    if (!o) return 0;
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        if (!G->n_members) continue;
        for (int32_t i = 0; i < G->n_links; i++) {
            const mu_tstep_t *s = &G->links[i];
            if (s->tr->wants_lookahead && !mu_chain_fused(G->links, G->n_links, i) && s->tr->wants_lookahead(s)) return 1;
        }
    }
    return 0;
}

int mu_optim_lookahead(mu_optim_t *o) {
    MU_REQUIRE(o, "mu_optim_lookahead: optimizer is NULL");
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        for (int32_t i = 0; i < G->n_links; i++) {
            const mu_tstep_t *s = &G->links[i];
            if (!s->tr->lookahead || mu_chain_fused(G->links, G->n_links, i) || !s->tr->wants_lookahead(s)) continue;
            for (int32_t j = 0; j < G->n_members; j++) {
                const mu_param_t *p = &o->params[G->members[j]];
                s->tr->lookahead(s, mu_chain_link_state(G->links, G->n_links, i, o->state + G->state_off[j], p), p);
            }
        }
    }
    o->lookahead_step = o->steps + 1;  // consumed by the next mu_optim_step
    return MU_OK;
}
