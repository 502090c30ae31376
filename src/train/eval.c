/* eval.c — mean cross-entropy over the val split.
 * Definition: windows w = 0..W-1 with x = val[wT .. wT+T), y = val[wT+1 .. wT+T+1)
 * (consecutive, non-overlapping, W = (n_val-1)/T); the loss is the mean of
 * -log p(y_t | x_<=t) over all W*T positions (every window weighs the same). */
#include <math.h>

#include "base/util.h"
#include "muon/train.h"

int mu_eval_loss(mu_gpt_t *m, const mu_dataset_t *d, int32_t batch, int64_t max_windows, double *loss,
                 int64_t *n_tokens) {
    MU_REQUIRE(m && d && loss && batch > 0, "mu_eval_loss: NULL argument or batch <= 0");
    int32_t T = mu_gpt_config(m)->seq_len;
    int64_t W = mu_dataset_val_windows(d, T);
    if (W <= 0)
        return mu_set_error(MU_EINVAL, "val split has %lld tokens, fewer than seq_len+1 = %d",
                            (long long)mu_dataset_val_tokens(d), T + 1);
    if (max_windows > 0 && max_windows < W) W = max_windows;
    int32_t *x = malloc(sizeof(int32_t) * (size_t)batch * (size_t)T);
    int32_t *y = malloc(sizeof(int32_t) * (size_t)batch * (size_t)T);
    if (!x || !y) {
        free(x);
        free(y);
        return mu_set_error(MU_ENOMEM, "mu_eval_loss: out of memory");
    }
    mu_gpt_set_train(m, 0, 0, 0, 0);
    double sum = 0;
    int rc = MU_OK;
    for (int64_t w0 = 0; w0 < W && rc == MU_OK; w0 += batch) {
        int32_t B = (int32_t)(W - w0 < batch ? W - w0 : batch);
        for (int32_t b = 0; b < B && rc == MU_OK; b++)
            rc = mu_dataset_val_window(d, T, w0 + b, x + (size_t)b * T, y + (size_t)b * T);
        float l = 0;
        if (rc == MU_OK) rc = mu_gpt_forward(m, x, y, B, T, &l);
        sum += (double)l * B; /* forward returns the mean over B*T positions */
    }
    free(x);
    free(y);
    if (rc != MU_OK) return rc;
    *loss = sum / (double)W;
    if (n_tokens) *n_tokens = W * T;
    return MU_OK;
}
