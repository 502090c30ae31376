/* progress.h — progress display for long work: a redrawn bar on a TTY, log lines otherwise. */
#ifndef MUON_PROGRESS_H
#define MUON_PROGRESS_H

#include <stdio.h>

#include "muon/train.h"

typedef struct {
    FILE *f;
    int tty;
    int bar_shown;
    double last_draw, last_line;
} progress_t;

void progress_init(progress_t *p, FILE *f);
void progress_cb(const mu_progress_t *e, void *user); /* mu_progress_fn */
void progress_finish(progress_t *p);
void format_duration(double s, char *buf, size_t cap);

#endif
