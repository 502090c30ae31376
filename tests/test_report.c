/* test_report.c — the SVG plotting module and the metrics reader: document structure
 * (balanced tags, one polyline per unbroken run of points), tick labels at log positions,
 * exact pixel coordinates of points on log2/log10 axes, escaping, and `muon report curves`
 * on generated metrics.jsonl files. */
#include <sys/wait.h>

#include "muon/report.h"
#include "testutil.h"

/* Count non-overlapping occurrences of needle. */
static int count(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + strlen(needle), needle)) n++;
    return n;
}

/* Well-formedness light: every <tag ...> is closed by </tag> in order or self-closed "/>".
 * Skips the <?xml ...?> declaration. Returns 1 when balanced. */
static int balanced(const char *s) {
    char stack[64][32];
    int depth = 0, seen_root = 0;
    for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
        if (p[1] == '?') continue;
        const char *e = strchr(p, '>');
        if (!e) return 0;
        if (p[1] == '/') {
            char name[32];
            size_t l = strcspn(p + 2, "> ");
            if (l >= sizeof name || depth == 0) return 0;
            memcpy(name, p + 2, l), name[l] = 0;
            if (strcmp(stack[--depth], name)) return 0;
            if (depth == 0) seen_root = 1;
        } else if (e[-1] != '/') {
            size_t l = strcspn(p + 1, "> ");
            if (l >= sizeof stack[0] || depth == 64) return 0;
            memcpy(stack[depth], p + 1, l), stack[depth][l] = 0;
            depth++;
        }
    }
    return depth == 0 && seen_root;
}

/* x pixel of the tick label text, <text class="xtick" x="..." ...>label</text>; -1 if absent. */
static double tick_x(const char *svg, const char *cls, const char *label) {
    char pat[64];
    snprintf(pat, sizeof pat, ">%s</text>", label);
    for (const char *p = strstr(svg, pat); p; p = strstr(p + 1, pat)) {
        const char *t = p;
        while (t > svg && strncmp(t, "<text", 5)) t--;
        if (strstr(t, cls) && strstr(t, cls) < p) {
            double v = -1;
            const char *a = strstr(t, strcmp(cls, "ytick") ? " x=\"" : " y=\"");
            if (a && a < p) v = atof(a + 4);
            return v;
        }
    }
    return -1;
}

/* The k-th polyline's points (up to cap). */
static int polyline_points(const char *svg, int k, double *px, double *py, int cap) {
    const char *p = svg;
    for (int i = 0; i <= k; i++) {
        p = strstr(p, "<polyline points=\"");
        if (!p) return 0;
        p += strlen("<polyline points=\"");
    }
    int n = 0;
    while (*p != '"' && n < cap) {
        char *e;
        px[n] = strtod(p, &e);
        py[n] = strtod(e + 1, &e);
        n++;
        p = e;
        while (*p == ' ') p++;
    }
    return n;
}

static void test_structure_two_panels(void **s) {
    double x[6] = {0, 1, 2, 3, 4, 5}, y1[6] = {5, 4, NAN, 2, 1.5, 1}, y2[6] = {3, 3, 3, 3, 3, 3};
    mu_plot_series_t a[2] = {{.label = "broken", .x = x, .y = y1, .n = 6}, {.label = "flat", .x = x, .y = y2, .n = 6, .dashed = 1}};
    mu_plot_series_t b[1] = {{.label = "dots", .x = x, .y = y2, .n = 6, .markers = 1}};
    mu_plot_panel_t p[2] = {mu_plot_panel_default(), mu_plot_panel_default()};
    p[0].series = a, p[0].n_series = 2, p[0].title = "left", p[0].xlabel = "step", p[0].ylabel = "loss";
    p[1].series = b, p[1].n_series = 1, p[1].title = "right";
    mu_plot_figure_t f = {.title = "two panels", .panels = p, .n_panels = 2, .cols = 2};
    char *svg = NULL;
    size_t len = 0;
    assert_int_equal(mu_plot_svg(&f, &svg, &len), MU_OK);
    assert_int_equal(strlen(svg), len);
    assert_true(balanced(svg));
    assert_int_equal(count(svg, "<svg "), 1);
    assert_int_equal(count(svg, "width=\"960\" height=\"350\""), 1); /* 2 × 480, 30 + 320 */
    assert_int_equal(count(svg, "class=\"panel\""), 2);
    assert_int_equal(count(svg, "class=\"series\""), 3);
    assert_int_equal(count(svg, "<polyline"), 2 + 1 + 1); /* NaN splits "broken" in two */
    assert_int_equal(count(svg, "<circle"), 6);
    assert_int_equal(count(svg, "class=\"legend\""), 2);
    assert_int_equal(count(svg, "stroke-dasharray"), 2); /* series + its legend sample */
    assert_non_null(strstr(svg, ">two panels</text>"));
    assert_non_null(strstr(svg, ">left</text>"));
    assert_non_null(strstr(svg, ">loss</text>"));
    /* linear ticks 0..5 at step 1; the first polyline's first point is (0, 5) = the plot's
     * left edge (64) and, with y range [1, 5], the top of the plot area (30 + 28) */
    for (int i = 0; i <= 5; i++) {
        char l[16];
        snprintf(l, sizeof l, "%d", i);
        assert_true(tick_x(svg, "xtick", l) > 0);
    }
    double px[8], py[8];
    assert_int_equal(polyline_points(svg, 0, px, py, 8), 2);
    assert_close(px[0], MU_PLOT_MARGIN_LEFT, 0.01, 0);
    assert_close(py[0], MU_PLOT_TITLE_H + MU_PLOT_MARGIN_TOP, 0.01, 0);
    assert_close(py[1], MU_PLOT_TITLE_H + MU_PLOT_MARGIN_TOP + 0.25 * (320 - 28 - 44), 0.01, 0); /* y = 4 */
    assert_int_equal(polyline_points(svg, 1, px, py, 8), 3);
    assert_close(px[2], 480 - MU_PLOT_MARGIN_RIGHT, 0.01, 0); /* x = 5: right edge */
    free(svg);
}

/* widths 64..1024 on log2: ticks at every power of two, 256 is the exact middle */
static void test_log2_axis(void **s) {
    double x[5] = {64, 128, 256, 512, 1024}, y[5] = {1, 2, 3, 4, 5};
    mu_plot_series_t se = {.label = "w", .x = x, .y = y, .n = 5};
    mu_plot_panel_t p = mu_plot_panel_default();
    p.xscale = MU_AXIS_LOG2, p.series = &se, p.n_series = 1;
    mu_plot_figure_t f = {.panels = &p, .n_panels = 1};
    char *svg;
    assert_int_equal(mu_plot_svg(&f, &svg, NULL), MU_OK);
    assert_true(balanced(svg));
    double px[5], py[5];
    assert_int_equal(polyline_points(svg, 0, px, py, 5), 5);
    double left = MU_PLOT_MARGIN_LEFT, right = 480 - MU_PLOT_MARGIN_RIGHT;
    assert_close(px[0], left, 0.01, 0);
    assert_close(px[2], (left + right) / 2, 0.01, 0);
    assert_close(px[4], right, 0.01, 0);
    const char *labels[5] = {"64", "128", "256", "512", "1024"};
    for (int i = 0; i < 5; i++) assert_close(tick_x(svg, "xtick", labels[i]), px[i], 0.01, 0);
    free(svg);
}

/* loss from 0.001 to 10 on log10 y: decade ticks, equal spacing per decade; a zero and a
 * negative value break the line instead of failing */
static void test_log10_axis(void **s) {
    double x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {10, 1, 0, 0.1, 0.01, 0.001};
    mu_plot_series_t se = {.label = "l", .x = x, .y = y, .n = 6};
    mu_plot_panel_t p = mu_plot_panel_default();
    p.yscale = MU_AXIS_LOG10, p.series = &se, p.n_series = 1, p.legend = 0;
    mu_plot_figure_t f = {.panels = &p, .n_panels = 1, .panel_w = 400, .panel_h = 400};
    char *svg;
    assert_int_equal(mu_plot_svg(&f, &svg, NULL), MU_OK);
    assert_true(balanced(svg));
    assert_int_equal(count(svg, "<polyline"), 2);
    assert_int_equal(count(svg, "class=\"legend\""), 0);
    double top = MU_PLOT_MARGIN_TOP, bottom = 400 - MU_PLOT_MARGIN_BOTTOM, dec = (bottom - top) / 4;
    const char *labels[5] = {"0.001", "0.01", "0.1", "1", "10"};
    for (int i = 0; i < 5; i++) /* label baseline = tick y + 4 */
        assert_close(tick_x(svg, "ytick", labels[i]), bottom - i * dec + 4, 0.01, 0);
    double px[4], py[4];
    assert_int_equal(polyline_points(svg, 0, px, py, 4), 2);
    assert_close(py[0], top, 0.01, 0);         /* 10 */
    assert_close(py[1], top + dec, 0.01, 0);   /* 1 */
    assert_int_equal(polyline_points(svg, 1, px, py, 4), 3);
    assert_close(py[2], bottom, 0.01, 0);      /* 0.001 */
    /* inside one decade: 1-2-5 ticks */
    double y2[2] = {1.5, 6};
    se.y = y2, se.n = 2;
    free(svg);
    assert_int_equal(mu_plot_svg(&f, &svg, NULL), MU_OK);
    assert_true(tick_x(svg, "ytick", "2") > 0);
    assert_true(tick_x(svg, "ytick", "5") > 0);
    free(svg);
}

static void test_escape_and_limits(void **s) {
    double x[3] = {0, 1, 2}, y[3] = {0, 100, 2};
    mu_plot_series_t se = {.label = "a<b & \"c\"", .x = x, .y = y, .n = 3, .color = "#123456"};
    mu_plot_panel_t p = mu_plot_panel_default();
    p.series = &se, p.n_series = 1, p.ymin = 0, p.ymax = 4; /* 100 is clipped, not rescaled */
    mu_plot_figure_t f = {.title = "x<y", .panels = &p, .n_panels = 1};
    char *svg;
    assert_int_equal(mu_plot_svg(&f, &svg, NULL), MU_OK);
    assert_true(balanced(svg));
    assert_non_null(strstr(svg, ">a&lt;b &amp; &quot;c&quot;</text>"));
    assert_non_null(strstr(svg, ">x&lt;y</text>"));
    assert_non_null(strstr(svg, "stroke=\"#123456\""));
    assert_non_null(strstr(svg, "clip-path=\"url(#clip0)\""));
    assert_true(tick_x(svg, "ytick", "4") > 0);
    assert_true(tick_x(svg, "ytick", "5") < 0);
    free(svg);
    /* errors */
    mu_plot_series_t bad = {.label = "nodata", .n = 3};
    p.series = &bad;
    assert_int_equal(mu_plot_svg(&f, &svg, NULL), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "nodata"));
    f.n_panels = 0;
    assert_int_equal(mu_plot_svg(&f, &svg, NULL), MU_EINVAL);
    mu_axis_scale_t sc;
    assert_int_equal(mu_axis_scale_parse("log2", &sc), MU_OK);
    assert_int_equal(sc, MU_AXIS_LOG2);
    assert_int_equal(mu_axis_scale_parse("loglog", &sc), MU_EINVAL);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_metrics_series(void **s) {
    char dir[256], path[512];
    mu_test_tmpdir(dir, sizeof dir, "report");
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    write_text(path, "{\"step\":10,\"loss\":5.5,\"tokens\":100}\n"
                     "{\"step\":10,\"event\":\"eval\",\"detail\":\"x\"}\n"
                     "\n"
                     "{\"step\":20,\"loss\":4.25,\"val_loss\":4.5,\"tokens\":200}\n"
                     "{\"step\":30,\"loss\":3");                       /* torn last line */
    double *x, *y;
    int64_t n;
    assert_int_equal(mu_metrics_series(path, "step", "loss", &x, &y, &n), MU_OK);
    assert_int_equal(n, 2);
    assert_close(x[1], 20, 0, 0);
    assert_close(y[0], 5.5, 0, 0);
    assert_close(y[1], 4.25, 0, 0);
    free(x), free(y);
    assert_int_equal(mu_metrics_series(path, "tokens", "val_loss", &x, &y, &n), MU_OK);
    assert_int_equal(n, 1);
    assert_close(x[0], 200, 0, 0);
    free(x), free(y);
    write_text(path, "{\"step\":1,\"loss\":2}\nnot json\n{\"step\":2,\"loss\":1}\n");
    assert_int_equal(mu_metrics_series(path, "step", "loss", &x, &y, &n), MU_EFORMAT);
    assert_non_null(strstr(mu_last_error(), "line 2"));
    snprintf(path, sizeof path, "%s/missing.jsonl", dir);
    assert_true(mu_metrics_series(path, "step", "loss", &x, &y, &n) < 0);
}

/* Nested keys: '/' paths into objects, member listing of the first line holding the object */
static void test_metrics_nested(void **s) {
    char dir[256], path[512];
    mu_test_tmpdir(dir, sizeof dir, "report-nested");
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    write_text(path, "{\"step\":1,\"loss\":3}\n"
                     "{\"step\":10,\"diag\":{\"mats\":{\"a.w\":{\"r_w\":1.5},\"b\":{\"r_w\":2}}}}\n"
                     "{\"step\":20,\"diag\":{\"mats\":{\"a.w\":{\"r_w\":1.25},\"b\":{\"r_w\":null}}}}\n");
    double *x, *y;
    int64_t n;
    assert_int_equal(mu_metrics_series(path, "step", "diag/mats/a.w/r_w", &x, &y, &n), MU_OK);
    assert_int_equal(n, 2);
    assert_close(x[1], 20, 0, 0);
    assert_close(y[1], 1.25, 0, 0);
    free(x), free(y);
    assert_int_equal(mu_metrics_series(path, "step", "diag/mats/b/r_w", &x, &y, &n), MU_OK);
    assert_int_equal(n, 1); /* null is not a number */
    free(x), free(y);
    assert_int_equal(mu_metrics_series(path, "step", "diag/mats/zz/r_w", &x, &y, &n), MU_OK);
    assert_int_equal(n, 0);
    free(x), free(y);
    char **names;
    int32_t k;
    assert_int_equal(mu_metrics_keys(path, "diag/mats", &names, &k), MU_OK);
    assert_int_equal(k, 2);
    assert_string_equal(names[0], "a.w");
    assert_string_equal(names[1], "b");
    mu_metrics_keys_free(names, k);
    assert_int_equal(mu_metrics_keys(path, "nothing/here", &names, &k), MU_OK);
    assert_int_equal(k, 0);
    mu_metrics_keys_free(names, k);
    assert_int_equal(mu_metrics_keys(NULL, "x", &names, &k), MU_EINVAL);
}

/* `muon report spectral`: ranges, |r_dW - 1|, overlay across runs and --check's exit status */
static void test_cli_spectral(void **s) {
    const char *bin = getenv("MUON_BIN");
    if (!bin) skip();
    char dir[256], path[512], cmd[2048];
    mu_test_tmpdir(dir, sizeof dir, "report-spectral");
    for (int r = 0; r < 2; r++) { /* run r: r_W = (1 + r) * (1 + step/100), r_dW = 1 + 0.01 r */
        snprintf(path, sizeof path, "%s/w%d", dir, r);
        assert_int_equal(mu_mkdir_p(path), MU_OK);
        snprintf(path, sizeof path, "%s/w%d/metrics.jsonl", dir, r);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        for (int t = 10; t <= 50; t += 10)
            fprintf(f, "{\"step\":%d,\"loss\":1,\"diag\":{\"iters\":10,\"mats\":{\"transformer.h.0.mlp.c_fc.weight\":"
                       "{\"r_w\":%g,\"r_dw\":%g}}}}\n", t, (1 + r) * (1 + t / 100.0), 1 + 0.01 * r);
        fclose(f);
    }
    snprintf(cmd, sizeof cmd, "cd %s && timeout 60 %s report spectral w0 w1 --out s.svg --csv s.csv > out.txt 2>&1",
             dir, bin);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/s.csv", dir);
    char *csv;
    size_t len;
    assert_int_equal(mu_file_read_all(path, (void **)&csv, &len), MU_OK);
    assert_non_null(strstr(csv, "\"w0\",\"transformer.h.0.mlp.c_fc.weight\",1.1,1.5,0\n"));
    assert_non_null(strstr(csv, "\"w1\",\"transformer.h.0.mlp.c_fc.weight\",2.2,3,0.01\n"));
    free(csv);
    snprintf(path, sizeof path, "%s/out.txt", dir);
    assert_int_equal(mu_file_read_all(path, (void **)&csv, &len), MU_OK);
    assert_non_null(strstr(csv, "max/min of r_W across runs: 2.000"));
    free(csv);
    snprintf(path, sizeof path, "%s/s.svg", dir);
    char *svg;
    assert_int_equal(mu_file_read_all(path, (void **)&svg, &len), MU_OK);
    assert_true(balanced(svg));
    assert_int_equal(count(svg, "<polyline"), 4); /* 2 panels x 2 runs */
    free(svg);
    /* --check: overlay 2.0 passes at the default bound 2, fails at 1.5; r_dW tolerance 0.005 fails */
    snprintf(cmd, sizeof cmd, "cd %s && timeout 60 %s report spectral w0 w1 --out s.svg --check >/dev/null 2>&1", dir, bin);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "cd %s && timeout 60 %s report spectral w0 w1 --out s.svg --check --overlay 1.5 "
             ">/dev/null 2>&1", dir, bin);
    int st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    snprintf(cmd, sizeof cmd, "cd %s && timeout 60 %s report spectral w0 --out s.svg --check --rdw-tol 0.005 "
             ">/dev/null 2>&1", dir, bin);
    assert_int_equal(system(cmd), 0); /* w0 alone: r_dW exactly 1 */
    snprintf(cmd, sizeof cmd, "cd %s && timeout 60 %s report spectral w1 --out s.svg --check --rdw-tol 0.005 "
             ">/dev/null 2>&1", dir, bin);
    st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    /* a run without diagnostics is an error naming the remedy */
    snprintf(path, sizeof path, "%s/plain", dir);
    assert_int_equal(mu_mkdir_p(path), MU_OK);
    snprintf(path, sizeof path, "%s/plain/metrics.jsonl", dir);
    write_text(path, "{\"step\":1,\"loss\":2}\n");
    snprintf(cmd, sizeof cmd, "cd %s && timeout 60 %s report spectral plain 2>&1 | grep -q diag-every", dir, bin);
    assert_int_equal(system(cmd), 0);
}

/* `muon report curves` on two generated runs: one SVG, two curves, legend = directory names */
static void test_cli_curves(void **s) {
    const char *bin = getenv("MUON_BIN");
    if (!bin) skip();
    char dir[256], path[512], cmd[2048];
    mu_test_tmpdir(dir, sizeof dir, "report-cli");
    const char *runs[2] = {"run_a", "run_b"};
    for (int r = 0; r < 2; r++) {
        snprintf(path, sizeof path, "%s/%s", dir, runs[r]);
        assert_int_equal(mu_mkdir_p(path), MU_OK);
        snprintf(path, sizeof path, "%s/%s/metrics.jsonl", dir, runs[r]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        for (int t = 1; t <= 20; t++)
            fprintf(f, "{\"step\":%d,\"loss\":%g,\"elapsed_s\":%g%s}\n", t * 10, 5.0 / (t + r), 0.5 * t,
                    t % 5 == 0 ? ",\"val_loss\":3" : "");
        fclose(f);
    }
    snprintf(cmd, sizeof cmd, "cd %s && timeout 60 %s report curves run_a run_b/ --out c.svg --x elapsed_s --logy "
             ">/dev/null 2>&1", dir, bin);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/c.svg", dir);
    char *svg;
    size_t len;
    assert_int_equal(mu_file_read_all(path, (void **)&svg, &len), MU_OK);
    assert_true(balanced(svg));
    assert_int_equal(count(svg, "<polyline"), 2);
    assert_non_null(strstr(svg, ">run_a</text>"));
    assert_non_null(strstr(svg, ">run_b</text>"));
    assert_non_null(strstr(svg, ">loss vs elapsed_s</text>"));
    double px[32], py[32];
    assert_int_equal(polyline_points(svg, 0, px, py, 32), 20);
    free(svg);
    /* usage errors: no run, missing metrics, unknown report */
    snprintf(cmd, sizeof cmd, "cd %s && timeout 60 %s report curves >/dev/null 2>&1", dir, bin);
    int st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    snprintf(cmd, sizeof cmd, "cd %s && timeout 60 %s report curves nope >/dev/null 2>&1", dir, bin);
    st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    snprintf(cmd, sizeof cmd, "cd %s && timeout 60 %s report bogus >/dev/null 2>&1", dir, bin);
    st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
}

int main(int argc, char **argv) {
    const struct CMUnitTest group[] = {
        cmocka_unit_test(test_structure_two_panels), cmocka_unit_test(test_log2_axis),
        cmocka_unit_test(test_log10_axis),           cmocka_unit_test(test_escape_and_limits),
        cmocka_unit_test(test_metrics_series),       cmocka_unit_test(test_cli_curves),
        cmocka_unit_test(test_metrics_nested),       cmocka_unit_test(test_cli_spectral),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name(__FILE__, group, NULL, NULL);
}
