"""Is the class of an occluded digit in the denoiser's representation? Linear probes at each occlusion level.

    python benchmarks/occlusion_probe.py [--checkpoint mjdiff/assets/demo.pt] [--levels 0 0.25 0.5] [--n N] [--seed 0] [--out DIR]

On the demo's digits, each covered by a random square of the given fraction (`occlusion_mask`, the robustness
curves' corruption): a standardised logistic regression fitted on the training digits and scored on the held-out
ones (its C chosen from 0.01 / 0.1 / 1 by 3-fold cross-validation on the training digits), reading (1) the occluded
pixels themselves, (2) the network's bottleneck (`bottleneck_features`, the whole map and its spatial mean) with the
digit the known condition and the other modalities at σ_max — the state in which conditional sampling decides the
class — and, for a network with a mask input, (3) the whole bottleneck map with the square declared missing
(`known` = the visible pixels; a square of nothing is a known condition, as in `conditional_sample`). A probe's
held-out accuracy estimates what a linear read-out of that representation gives; it is not a coherence. Prints a
markdown table (also <out>/occlusion_probe.md and .csv). `--n` keeps the first N training digits (a quick run).
"""
import argparse, csv
from pathlib import Path
import numpy as np, torch
from mjdiff.stages import run_sets
from mjdiff.presets import resolve_config
from mjdiff.checkpoint import load_model
from mjdiff.latent import bottleneck_features, linear_probe
from mjdiff.data import occlusion_mask, to_float, demo_layout

CS = (0.01, 0.1, 1.0)

def probe(ftr, ytr, fte, yte) -> float:
    "Held-out accuracy of `linear_probe` with its C picked by 3-fold cross-validation on the training features."
    from sklearn.model_selection import StratifiedKFold
    ftr, ytr = np.asarray(ftr), np.asarray(ytr)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(ftr, ytr))
    cv = [np.mean([linear_probe(ftr[a], ytr[a], ftr[b], ytr[b], C=C) for a, b in folds]) for C in CS]
    return linear_probe(ftr, ytr, fte, yte, C=CS[int(np.argmax(cv))])

def spatial_mean(maps, channels: int):
    "The spatial mean `[B, F]` of flattened bottleneck maps `[B, F·h·w]` (what `bottleneck_features(pool=True)` gives)."
    return maps.reshape(len(maps), channels, -1).mean(-1)

def inputs(D, images, level: float, seed: int, masked: bool):
    "The network's input `(x, sigma, known)` with the digit known, occluded at `level`, the rest at σ_max; and the occluded digits."
    lay, x = D.layout, to_float(images)
    n, smax, sl, d = len(x), D.noise.sigma_max, lay.slices['digit'], lay.names.index('digit')
    visible = occlusion_mask(x, level, torch.Generator().manual_seed(seed))
    occluded = torch.where(visible, x, torch.full_like(x, -1.))
    full = smax * torch.randn(n, lay.channels, lay.size, lay.size, generator=torch.Generator().manual_seed(seed + 1))
    sigma = torch.full((n, lay.M), smax)
    if not masked:
        full[:, sl], sigma[:, d] = occluded, 0.
        return full, sigma, None, occluded
    known = torch.zeros(full.shape, dtype=torch.bool); known[:, sl] = visible
    full[:, sl] = torch.where(visible, x, full[:, sl])
    sigma[visible.flatten(1).all(1), d] = 0.                                 # nothing covered: a known condition
    return full, sigma, known, occluded

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint', default='mjdiff/assets/demo.pt')
    ap.add_argument('--levels', type=float, nargs='+', default=[0.0, 0.25, 0.5])
    ap.add_argument('--n', type=int, default=None, help='first N training digits only (at least 30)')
    ap.add_argument('--seed', type=int, default=0, help='seeds the demo data, the squares and the noise')
    ap.add_argument('--out', default='outputs/occlusion_probe')
    a = ap.parse_args(argv)
    if any(not 0 <= l < 1 for l in a.levels): raise SystemExit(f"--levels must lie in [0, 1), got {a.levels}")
    if a.n is not None and a.n < 30: raise SystemExit(f"--n {a.n}: the probe needs at least 30 training digits")
    D = load_model(a.checkpoint).eval()
    if D.layout != demo_layout(): raise SystemExit(f"{a.checkpoint}: this probe runs on the demo's data; the network's layout is {D.layout}")
    cfg = resolve_config('demo', {'seed': a.seed})
    _, train = run_sets(cfg, 'train'); _, held = run_sets(cfg, 'heldout')
    tr, te = train['digit'], held['digit']
    n = min(a.n or len(tr), len(tr))
    ytr, yte = np.asarray(tr.labels[:n]), np.asarray(te.labels)
    s_tr, s_te = 4 * a.seed + 1, 4 * a.seed + 3                               # squares and noise: four distinct streams
    F = bottleneck_features(D, *inputs(D, tr.images[:1], 0., 0, False)[:2]).shape[1]   # channels of the bottleneck
    rows = []
    for level in a.levels:
        row = dict(level=level)
        for masked in ((False, True) if D.pixel_known else (False,)):
            (xa, sa, ka, pa), (xb, sb, kb, pb) = inputs(D, tr.images[:n], level, s_tr, masked), inputs(D, te.images, level, s_te, masked)
            fa, fb = bottleneck_features(D, xa, sa, known=ka, pool=False), bottleneck_features(D, xb, sb, known=kb, pool=False)
            if masked: row['bottleneck_masked'] = probe(fa, ytr, fb, yte)
            else:
                row['pixels'] = probe(pa.flatten(1), ytr, pb.flatten(1), yte)
                row['bottleneck'] = probe(fa, ytr, fb, yte)
                row['bottleneck_mean'] = probe(spatial_mean(fa, F), ytr, spatial_mean(fb, F), yte)
        rows.append(row); print(' '.join(f'{k} {v:.3f}' for k, v in row.items()), flush=True)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    keys = list(rows[0])
    with open(out / 'occlusion_probe.csv', 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=keys); w.writeheader(); w.writerows(rows)
    head = (f"{a.checkpoint}: linear probes of the digit's class, fitted on {n} training digits, scored on {len(yte)} held-out "
            f"ones (chance 0.10)\n\n")
    names = dict(level='occluded fraction', pixels='pixels', bottleneck='bottleneck map, digit as known',
                 bottleneck_mean='bottleneck mean, digit as known', bottleneck_masked='bottleneck map, square declared missing')
    table = ['| ' + ' | '.join(names[k] for k in keys) + ' |', '|' + '---|' * len(keys)]
    table += ['| ' + ' | '.join(f'{r[k]:.2f}' if k == 'level' else f'{r[k]:.3f}' for k in keys) + ' |' for r in rows]
    (out / 'occlusion_probe.md').write_text(head + '\n'.join(table) + '\n')
    print('\n' + head + '\n'.join(table))

if __name__ == '__main__': main()
