/* capture.h — how a link reads the reference that an earlier `capture` link of the same
 * chain stored (optimizers-lmo.md §1: frob_match(ref), nuclear_scale(ref), and the NAMO
 * norms of norm_adapt). The reference is the capture link's state for the member: the
 * consumer finds the nearest capture before it in its chain (ctx->links, ctx->link) and reads
 * that link's state in the member's arena (ctx->member_state), so members need not run one
 * after the other (step.c's batched windows run several between capture and consumer). */
#ifndef MU_OPTIM_CAPTURE_H
#define MU_OPTIM_CAPTURE_H

#include "optim/transform.h"

/* capture's `what`: ‖U_v‖_F per logical view (n_views floats), the column norms ‖U_:j‖
 * of each logical view (lines.h col axis: n_views·cols floats), or a copy of U (numel). */
enum { MU_CAPTURE_FRO = 0, MU_CAPTURE_COLS = 1, MU_CAPTURE_TENSOR = 2 };
extern const char *const mu_capture_names[];  /* "fro", "cols", "tensor", NULL */

/* A capture as its consumer sees it: the reference (layout above), the split it used and
 * the views of p under that split at the consumer's level (nv views of m x n). */
typedef struct {
    const float *ref;
    int32_t split;
    int64_t nv, m, n;
} mu_capture_ref_t;

/* The reference the nearest capture(what) before the running link (ctx) stored for p this
 * step, with its views at `level` (MU_VIEW_LOGICAL or MU_VIEW_ORTH). MU_EINVAL naming `who`
 * when the chain has no such capture before it. */
int mu_capture_get(const mu_tctx_t *ctx, const mu_param_t *p, int32_t what, int32_t level, const char *who,
                   mu_capture_ref_t *out);

#endif
