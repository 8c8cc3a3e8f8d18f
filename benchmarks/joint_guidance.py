"""Joint guidance benchmark: weight w → joint coherence, class balance, Fréchet distance, NFE, seconds/sample.

    python benchmarks/joint_guidance.py --run outputs/demo [--n 200] [--w 0,1,2,3] [--steps RUN'S] [--out DIR]

Joint samples of the run's checkpoint (`joint_sample(D, n, w=w)`, the run's sampler and steps, one seed for every w,
so w = 0 is the plain joint sampler on the same starting noise), labelled by the run's cached evaluation classifiers.
Joint coherence: all modalities' predicted classes agree under the class map. Class balance: entropy of one
modality's predicted classes ÷ log 10 (1 = every class equally often), the lowest over modalities — guidance that
bought agreement by dropping classes shows here. FD: classifier-feature Fréchet distance to held-out real data,
averaged over modalities. NFE: network evaluations per sample (joint guidance: M + 1 per call, batched).
Writes `joint_guidance.csv` and prints a markdown table.
"""
import argparse, csv, json, time
from pathlib import Path
import numpy as np, torch

from mjdiff.stages import run_sets, run_class_maps
from mjdiff.config import RunConfig
from mjdiff.checkpoint import load_model
from mjdiff.sampling import CountingDenoiser, SAMPLERS
from mjdiff.conditioning import joint_sample
from mjdiff.metrics import frechet_distance, joint_coherence, class_balance
from mjdiff.classifiers import train_or_load_classifiers, predict, features
from mjdiff.data import to_float, balanced_indices

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', required=True); ap.add_argument('--n', type=int, default=200)
    ap.add_argument('--w', default='0,1,2,3', help='comma-separated joint guidance weights')
    ap.add_argument('--steps', type=int, default=None, help="sampler steps (default: the run's sample_steps)")
    ap.add_argument('--out', default=None); ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args(argv)
    try: weights = [float(v) for v in a.w.split(',')]
    except ValueError: ap.error(f"--w expects comma-separated numbers, got {a.w!r}")
    run = Path(a.run); out = Path(a.out or run / 'bench_joint_guidance'); out.mkdir(parents=True, exist_ok=True)
    rc = json.loads((run / 'run_config.json').read_text())
    cfg = RunConfig(**{k: v for k, v in rc.items() if k in RunConfig.__dataclass_fields__})
    steps = a.steps or cfg.sample_steps
    D = load_model(run / 'checkpoints' / 'last.pt')
    layout, train_sets = run_sets(cfg, 'train'); _, held = run_sets(cfg, 'heldout')
    maps = run_class_maps(cfg, layout)
    clfs, _ = train_or_load_classifiers(train_sets, held, run, epochs=cfg.clf_epochs, seed=cfg.seed, verbose=False)
    real = {m: features(clfs[m], to_float(held[m].images[balanced_indices(held[m].labels, min(1000, len(held[m])), a.seed)])) for m in layout.names}
    rows = []
    for w in weights:
        C = CountingDenoiser(D); t0 = time.time()
        with torch.no_grad():
            x = joint_sample(C, a.n, sampler=SAMPLERS[cfg.sampler], steps=steps, w=w, generator=torch.Generator().manual_seed(a.seed))
        sec = (time.time() - t0) / a.n
        parts = layout.split(x)
        preds = {m: predict(clfs[m], parts[m]) for m in layout.names}
        rows.append(dict(w=w, sampler=cfg.sampler, steps=steps, nfe=C.images / a.n, joint_coherence=joint_coherence(preds, maps),
                         min_class_balance=min(class_balance(preds[m]) for m in layout.names),
                         fd=float(np.mean([frechet_distance(real[m], features(clfs[m], parts[m])) for m in layout.names])),
                         s_per_sample=sec, n=a.n))
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in rows[-1].items()}), flush=True)
    with open(out / 'joint_guidance.csv', 'w', newline='') as f:
        wr = csv.DictWriter(f, fieldnames=list(rows[0])); wr.writeheader(); wr.writerows(rows)
    print(f"\n{a.n} joint samples per row, {cfg.sampler} {steps} steps, checkpoint {run / 'checkpoints' / 'last.pt'}\n")
    print('| w | NFE | joint coherence | min class balance | FD (mean over modalities) | ms/sample |')
    print('|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['w']:g} | {r['nfe']:.0f} | {r['joint_coherence']:.3f} | {r['min_class_balance']:.3f} | {r['fd']:.1f} | {1000 * r['s_per_sample']:,.0f} |")

if __name__ == '__main__': main()
