/* schedule.c — learning-rate schedules as a factor on the base LR, for 0-based step t.
 *
 * Every kind starts with the same linear warmup (llm.c): t < warmup -> (t+1)/warmup,
 * so the first step is already 1/warmup (never 0) and step warmup-1 reaches 1.
 *   constant: 1 after warmup (also past total).
 *   cosine:   p = (t - warmup)/(total - warmup) over [warmup, total):
 *             min + (1 - min) * 0.5 * (1 + cos(pi p)); min_factor from t = total on.
 *   wsd:      warmup, stable 1, then linear decay over the last D = round(decay_frac*total)
 *             steps: s = total - D, factor = 1 - (1 - min) * (t - s)/D for s <= t < total;
 *             min_factor from t = total on (Hägele et al. 2024, "Scaling Laws and
 *             Compute-Optimal Training Beyond Fixed Training Durations").
 * Both decays reach min_factor at t = total, one step after the last training step
 * (as nanoGPT/llm.c: the ratio uses total - warmup in the denominator).
 */
#include <math.h>
#include <strings.h>

#include "base/util.h"
#include "muon/train.h"

static const char *const sched_names[] = {"constant", "cosine", "wsd"};

int mu_schedule_parse(const char *s, mu_sched_kind_t *out) {
    MU_REQUIRE(s && out, "mu_schedule_parse: NULL argument");
    for (int k = 0; k < 3; k++)
        if (strcasecmp(s, sched_names[k]) == 0) {
            *out = (mu_sched_kind_t)k;
            return MU_OK;
        }
    return mu_set_error(MU_EINVAL, "schedule '%s': unknown (valid: constant, cosine, wsd)", s);
}

const char *mu_schedule_name(mu_sched_kind_t k) {
    return (int)k >= 0 && (int)k < 3 ? sched_names[k] : "unknown";
}

float mu_schedule_factor(const mu_schedule_t *s, int64_t t) {
    if (!s) return 1.0f;
    if (t < 0) t = 0;
    const double mn = s->min_factor;
    if (s->warmup > 0 && t < s->warmup) return (float)((double)(t + 1) / (double)s->warmup);
    switch (s->kind) {
    case MU_SCHED_COSINE: {
        if (t >= s->total) return (float)mn;
        double p = (double)(t - s->warmup) / (double)(s->total - s->warmup);  // in [0, 1)
        return (float)(mn + (1.0 - mn) * 0.5 * (1.0 + cos(M_PI * p)));
    }
    case MU_SCHED_WSD: {
        if (t >= s->total) return (float)mn;
        double frac = s->decay_frac < 0 ? 0.0 : (s->decay_frac > 1 ? 1.0 : s->decay_frac);
        int64_t D = (int64_t)llround(frac * (double)s->total);
        int64_t start = s->total - D;
        if (D <= 0 || t < start) return 1.0f;
        return (float)(1.0 - (1.0 - mn) * (double)(t - start) / (double)D);
    }
    case MU_SCHED_CONSTANT:
    default: return 1.0f;
    }
}
