#!/usr/bin/env python3
"""first-look-report.py OUT_DIR — table (OUT_DIR/summary.md) and val-loss curves
(OUT_DIR/curves.svg) for scripts/first-look.sh. Standard library only."""
import glob, json, math, os, re, sys

out = sys.argv[1]
runs = {}
for d in sorted(glob.glob(os.path.join(out, "*-x*"))):
    if not os.path.isdir(d):
        continue
    m = re.match(r"(.+)-x([0-9.]+)$", os.path.basename(d))
    f = os.path.join(d, "metrics.jsonl")
    if not m or not os.path.exists(os.path.join(d, "done")) or not os.path.exists(f):
        continue
    rows = [json.loads(l) for l in open(f) if l.strip()]
    cfg = dict(l.split(" = ", 1) for l in open(os.path.join(d, "config.txt")).read().splitlines() if " = " in l)
    ev = [r for r in rows if "val_loss" in r]
    div = any(r.get("event") == "diverged" for r in rows)
    runs.setdefault(m.group(1), {})[float(m.group(2))] = {
        "lr": float(cfg.get("lr", "nan")), "final": math.inf if div or not ev else ev[-1]["val_loss"],
        "curve": [(r["step"], r["val_loss"]) for r in ev[:-1]], "time": rows[-1].get("elapsed_s", 0) if rows else 0,
        "diverged": div}
lines = ["| preset | lr x0.5 | lr x1 (default) | lr x2 | best val loss | train s (x1) |", "|---|---|---|---|---|---|"]
order = sorted(runs, key=lambda n: min(v["final"] for v in runs[n].values()))
for n in order:
    cells = []
    for f in (0.5, 1.0, 2.0):
        r = runs[n].get(f)
        cells.append("-" if not r else ("diverged (lr %g)" % r["lr"] if r["diverged"] else "%.4f (lr %g)" % (r["final"], r["lr"])))
    best = min(v["final"] for v in runs[n].values())
    t = runs[n].get(1.0, {}).get("time", 0)
    lines.append("| `%s` | %s | %.4f | %.0f |" % (n, " | ".join(cells), best, t))
open(os.path.join(out, "summary.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
# one SVG: best-LR val curve of every preset
W, H, pad = 900, 520, 60
curves = {n: min(runs[n].values(), key=lambda v: v["final"])["curve"] for n in runs}
pts = [p for c in curves.values() for p in c]
if pts:
    vmin = min(p[1] for p in pts); vmax = min(max(p[1] for p in pts), vmin + 2.0)
    smax = max(p[0] for p in pts)
    X = lambda s: pad + (W - 2 * pad - 170) * s / smax
    Y = lambda v: 20 + (H - 80) * (1 - (min(v, vmax) - vmin) / (vmax - vmin))
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="14">val loss (first 100 val windows) vs step, best LR of each preset — smoke test</text>' % pad]
    for k in range(6):
        v = vmin + (vmax - vmin) * k / 5
        svg.append('<text x="%d" y="%.1f" text-anchor="end">%.2f</text>' % (pad - 4, Y(v) + 4, v))
        svg.append('<text x="%.1f" y="%d" text-anchor="middle">%.0f</text>' % (X(smax * k / 5), H - 40, smax * k / 5))
    for i, n in enumerate(order):
        col = "hsl(%d,70%%,40%%)" % (i * 360 // max(1, len(order)))
        svg.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="1.2"/>' %
                   (" ".join("%.1f,%.1f" % (X(s), Y(v)) for s, v in curves[n]), col))
        svg.append('<text x="%d" y="%d" fill="%s">%s</text>' % (W - 160, 30 + 16 * i, col, n))
    svg.append('<text x="%d" y="%d" text-anchor="middle">step</text></svg>' % (W // 2 - 80, H - 20))
    open(os.path.join(out, "curves.svg"), "w").write("\n".join(svg) + "\n")
