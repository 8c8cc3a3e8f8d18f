"""Where the CIFAR-10 × MNIST coherence is heading: the log-linear trend of the full evaluations against CPU-hours.

    python benchmarks/coherence_trend.py [--points benchmarks/cifar_coherence_points.csv] [--to 15] [--out outputs/coherence_trend]

`--points`: one row per full evaluation of the long run's weights (`make reproduce PRESET=cifar10_mnist_pm_cpu` on a
fresh clone: 300 held-out conditions per direction and 300 joint samples, guidance w = 2), with the training images and
CPU-hours of those weights and where the numbers come from. Each column is fitted as a + b·ln(CPU-hours) on its points
(`mjdiff.evaluation.extrapolate`) — the shape the measured points follow, not a law — and the script prints, per
column, the fit, its value at `--to` CPU-hours and the CPU-hours at which it would reach its target (`TARGETS`:
photo->digit 0.60, digit->photo 0.40, joint 0.40); it draws the points, the trends and the targets in
`<out>/coherence_trend.png`.
"""
import argparse, csv, math
from pathlib import Path
import numpy as np
from mjdiff.evaluation import extrapolate

TARGETS = {'photo->digit': 0.60, 'digit->photo': 0.40, 'joint': 0.40}

def read_points(path) -> dict:
    "Columns of the points file: numbers as floats, `source` as text."
    rows = list(csv.DictReader(open(path)))
    if not rows: raise ValueError(f"{path}: no points")
    return {k: [r[k] if k == 'source' else float(r[k]) for r in rows] for k in rows[0]}

def reach(fit: dict, target: float) -> float:
    "CPU-hours at which `a + b·ln(x)` reaches `target` (inf when the fit does not rise, or only by rounding)."
    if fit['b'] <= 1e-9: return math.inf
    e = (target - fit['a']) / fit['b']
    return math.exp(e) if e < 700 else math.inf

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--points', default=str(Path(__file__).with_name('cifar_coherence_points.csv')))
    ap.add_argument('--to', type=float, default=15.0, help='CPU-hours to extrapolate to')
    ap.add_argument('--out', default='outputs/coherence_trend')
    a = ap.parse_args(argv)
    c = read_points(a.points)
    fits = {k: extrapolate(c, k, 'cpu_hours', a.to, last=len(c['cpu_hours'])) for k in TARGETS}
    print(f"{len(c['cpu_hours'])} points, {min(c['images']):,.0f}–{max(c['images']):,.0f} images, "
          f"{min(c['cpu_hours']):.2f}–{max(c['cpu_hours']):.2f} CPU-hours")
    print(f"| direction | last measured | fit a + b·ln(CPU-h) | at {a.to:g} CPU-h | target | CPU-h to reach it |")
    print('|---|---|---|---|---|---|')
    for k, f in fits.items():
        t = reach(f, TARGETS[k])
        print(f"| {k} | {c[k][-1]:.3f} | {f['a']:.3f} + {f['b']:.3f}·ln x | {f['at']:.2f} | {TARGETS[k]:.2f} | "
              f"{'never (no rise)' if math.isinf(t) else f'{t:.0f}'} |")
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.5, 4))
    xs = np.geomspace(min(c['cpu_hours']), a.to, 50)
    for (k, f), col in zip(fits.items(), ('C0', 'C1', 'C2')):
        ax.plot(c['cpu_hours'], c[k], 'o', color=col, label=f'{k} (measured)')
        ax.plot(xs, f['a'] + f['b'] * np.log(xs), '--', color=col, lw=1, label=f"{k} trend → {f['at']:.2f} at {a.to:g} h")
        ax.axhline(TARGETS[k], color=col, ls=(0, (1, 3)) if k == 'joint' else ':', lw=1.2)
    ax.axhline(0.1, color='grey', lw=0.8, ls=':'); ax.set_xscale('log')
    ticks = [v for v in (1, 2, 3, 5, 10, 15, 20, 30, 50, 100) if min(c['cpu_hours']) / 1.5 <= v <= a.to * 1.5]
    ax.set_xticks(ticks, [f'{v:g}' for v in ticks]); ax.minorticks_off()
    ax.set_xlabel('CPU-hours of training (log)'); ax.set_ylabel('coherence (300 conditions / joint samples)')
    ax.set_title('CIFAR-10 × MNIST: coherence and its log-linear trend; dotted: targets', fontsize=9)
    ax.grid(alpha=.3, which='both'); ax.legend(fontsize=7)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True); fig.tight_layout(); fig.savefig(out / 'coherence_trend.png', dpi=120)
    print(f"figure: {out / 'coherence_trend.png'}")

if __name__ == '__main__': main()
