"""Is the class of an occluded digit in the denoiser's representation? Linear probes at each occlusion level (issue 18).

    python benchmarks/occlusion_probe.py [--checkpoint mjdiff/assets/demo.pt] [--levels 0 0.25 0.5] [--n N] [--out DIR]

On the demo's digits, each covered by a random square of the given fraction (`corrupt_occlude`, the robustness
curves' corruption): a standardised logistic regression fitted on the training digits and scored on the held-out
ones, reading (1) the occluded pixels themselves, (2) the network's bottleneck (`bottleneck_features`) with the digit
the known condition and the other modalities at σ_max — the state in which conditional sampling decides the class —
and, for a network with a mask input, (3) the bottleneck with the square declared missing (`known` = visible pixels).
A probe is an upper bound on what a linear read-out of that representation gives, not a coherence. Prints a markdown
table (also <out>/occlusion_probe.md and .csv). `--n` keeps the first N training digits (a quick run).
"""
import argparse, csv
from pathlib import Path
import numpy as np, torch
from mjdiff.pipeline import resolve_config, run_sets
from mjdiff.training import load_model
from mjdiff.latent import bottleneck_features, linear_probe
from mjdiff.data import occlusion_mask, to_float

def inputs(D, images, level: float, seed: int, masked: bool):
    "The network's input with the digit known (occluded at `level`) and the rest at σ_max: `(x, sigma, known)`; the occluded pixels."
    lay, x = D.layout, to_float(images)
    n, smax, sl = len(x), D.noise.sigma_max, lay.slices['digit']
    visible = occlusion_mask(x, level, torch.Generator().manual_seed(seed))
    occluded = torch.where(visible, x, torch.full_like(x, -1.))
    full = smax * torch.randn(n, lay.channels, lay.size, lay.size, generator=torch.Generator().manual_seed(seed + 1))
    sigma = torch.full((n, lay.M), smax)
    if not masked:
        full[:, sl], sigma[:, lay.names.index('digit')] = occluded, 0.
        return full, sigma, None, occluded
    known = torch.zeros(full.shape, dtype=torch.bool); known[:, sl] = visible
    full[:, sl] = torch.where(visible, x, full[:, sl])
    return full, sigma, known, occluded

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint', default='mjdiff/assets/demo.pt')
    ap.add_argument('--levels', type=float, nargs='+', default=[0.0, 0.25, 0.5])
    ap.add_argument('--n', type=int, default=None, help='first N training digits only')
    ap.add_argument('--seed', type=int, default=0); ap.add_argument('--out', default='outputs/occlusion_probe')
    a = ap.parse_args(argv)
    if any(not 0 <= l < 1 for l in a.levels): raise SystemExit(f"--levels must lie in [0, 1), got {a.levels}")
    D = load_model(a.checkpoint).eval()
    if 'digit' not in D.layout.names: raise SystemExit(f"{a.checkpoint}: this probe needs a 'digit' modality, the network has {D.layout.names}")
    cfg = resolve_config('demo', {'seed': a.seed})
    _, train = run_sets(cfg, 'train'); _, held = run_sets(cfg, 'heldout')
    tr, te = train['digit'], held['digit']
    n = min(a.n or len(tr), len(tr))
    ytr, yte = np.asarray(tr.labels[:n]), np.asarray(te.labels)
    rows = []
    for level in a.levels:
        row = dict(level=level)
        for masked in ((False, True) if D.pixel_known else (False,)):
            (xa, sa, ka, pa), (xb, sb, kb, pb) = inputs(D, tr.images[:n], level, 1, masked), inputs(D, te.images, level, 2, masked)
            if not masked: row['pixels'] = linear_probe(pa.flatten(1), ytr, pb.flatten(1), yte, C=0.05)
            fa, fb = bottleneck_features(D, xa, sa, known=ka), bottleneck_features(D, xb, sb, known=kb)
            row['bottleneck_masked' if masked else 'bottleneck'] = linear_probe(fa, ytr, fb, yte)
        rows.append(row); print(' '.join(f'{k} {v:.3f}' for k, v in row.items()), flush=True)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    keys = list(rows[0])
    with open(out / 'occlusion_probe.csv', 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=keys); w.writeheader(); w.writerows(rows)
    head = (f"{a.checkpoint}: linear probes of the digit's class, fitted on {n} training digits, scored on {len(yte)} held-out "
            f"ones (chance 0.10)\n\n")
    names = dict(level='occluded fraction', pixels='pixels', bottleneck='bottleneck, occluded digit as known',
                 bottleneck_masked='bottleneck, square declared missing (mask input)')
    table = ['| ' + ' | '.join(names[k] for k in keys) + ' |', '|' + '---|' * len(keys)]
    table += ['| ' + ' | '.join(f'{r[k]:.2f}' if k == 'level' else f'{r[k]:.3f}' for k in keys) + ' |' for r in rows]
    (out / 'occlusion_probe.md').write_text(head + '\n'.join(table) + '\n')
    print('\n' + head + '\n'.join(table))

if __name__ == '__main__': main()
