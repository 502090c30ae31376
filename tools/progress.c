/* progress.c — renders mu_progress_t events: step bar (TTY) or one line per few seconds. */
#include "progress.h"

#include <math.h>
#include <unistd.h>

void progress_init(progress_t *p, FILE *f) {
    p->f = f;
    p->tty = isatty(fileno(f));
    p->bar_shown = 0;
    p->last_draw = p->last_line = -1e9;
}

void format_duration(double s, char *buf, size_t cap) {
    if (!(s >= 0) || s > 1e7) snprintf(buf, cap, "--");
    else if (s < 60) snprintf(buf, cap, "%.0fs", s);
    else if (s < 3600) snprintf(buf, cap, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, cap, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

static void clear_bar(progress_t *p) {
    if (p->tty && p->bar_shown) {
        fprintf(p->f, "\r\033[K");
        p->bar_shown = 0;
    }
}

void progress_cb(const mu_progress_t *e, void *user) {
    progress_t *p = user;
    double now = mu_time_s();
    if (e->event == 3) {
        clear_bar(p);
        fprintf(p->f, "%s\n", e->message);
        fflush(p->f);
        return;
    }
    if (e->event == 2) return; /* checkpoints are silent; the metrics file records them */
    char eta[32], el[32];
    format_duration(e->eta_s, eta, sizeof eta);
    format_duration(e->elapsed_s, el, sizeof el);
    if (e->event == 1 && !isnan(e->val_loss)) {
        clear_bar(p);
        fprintf(p->f, "step %6lld/%lld | val loss %.4f | train loss %.4f | %s\n", (long long)e->step,
                (long long)e->total, e->val_loss, e->loss, el);
        fflush(p->f);
        return;
    }
    int last = e->step == e->total;
    if (p->tty) {
        if (now - p->last_draw < 0.1 && !last) return;
        p->last_draw = now;
        int w = 24, fill = e->total > 0 ? (int)(w * (double)e->step / (double)e->total) : 0;
        char bar[32];
        for (int i = 0; i < w; i++) bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
        bar[w] = 0;
        fprintf(p->f, "\r\033[K[%s] %lld/%lld loss %.4f lr %.2e %.1fk tok/s %s ETA %s", bar, (long long)e->step,
                (long long)e->total, e->loss, e->lr, e->tokens_per_s / 1e3, el, eta);
        p->bar_shown = 1;
    } else {
        if (now - p->last_line < 5.0 && !last && e->step > 1) return;
        p->last_line = now;
        fprintf(p->f, "step %6lld/%lld | loss %.4f | lr %.2e | %.1fk tok/s | %s elapsed | ETA %s\n",
                (long long)e->step, (long long)e->total, e->loss, e->lr, e->tokens_per_s / 1e3, el, eta);
    }
    fflush(p->f);
}

void progress_finish(progress_t *p) {
    if (p->tty && p->bar_shown) fputc('\n', p->f);
    p->bar_shown = 0;
    fflush(p->f);
}
