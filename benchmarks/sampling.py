"""Sampling benchmark: sampler × strategy × steps → NFE, conditional coherence, Fréchet distance, seconds/sample.

    python benchmarks/sampling.py --run outputs/demo [--n 100] [--quick] [--steps 5,10,18] [--out outputs/demo/bench_sampling] [--resume]

NFE is network evaluations per sample (`CountingDenoiser.images / samples`: classifier-free guidance's two
evaluations per step, batched into one call, count as two). Uses the run's checkpoint, its configuration (`run_config.json`) and its cached evaluation classifiers. Conditions
are held-out examples of every modality in turn (balanced over classes); coherence is averaged over all ordered
pairs, FD over the generated modalities. Writes a CSV, a markdown table (printed) and a coherence-vs-NFE plot.
The reference row is the paper's setting: 1,000-step Euler–Maruyama with `replace`.
Every row is appended to `rows.csv` as soon as it is measured; `--resume` keeps the rows already there (same checkpoint,
`--n` and `--seed`) and measures only the missing ones, so a cut run loses at most one row.
"""
import argparse, csv, hashlib, json, time
from pathlib import Path
import numpy as np, torch

from mjdiff.evaluation import cross_modal_samples, pairwise_coherence
from mjdiff.stages import run_sets, run_class_maps
from mjdiff.config import RunConfig
from mjdiff.checkpoint import load_model
from mjdiff.sampling import CountingDenoiser, SAMPLERS, get_sigmas_karras, get_sigmas_linear
from mjdiff.metrics import frechet_distance
from mjdiff.classifiers import train_or_load_classifiers, features
from mjdiff.data import to_float, balanced_indices

def markdown_table(df) -> str:
    "A pandas frame as a markdown table (floats with 3 decimals), without the optional `tabulate` package."
    fmt = lambda v: f'{v:.3f}' if isinstance(v, float) else str(v)
    lines = ['| ' + ' | '.join(df.columns) + ' |', '|' + '---|' * len(df.columns)]
    return '\n'.join(lines + ['| ' + ' | '.join(fmt(v) for v in row) + ' |' for row in df.itertuples(index=False)])

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', required=True); ap.add_argument('--n', type=int, default=100)
    ap.add_argument('--quick', action='store_true', help='fewer combinations, no 1000-step reference')
    ap.add_argument('--steps', default='5,10,18', help='step counts of euler, heun and dpmpp_2m, comma-separated (the SDE samplers: 10 and 20)')
    ap.add_argument('--out', default=None); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--resume', action='store_true', help='keep the rows already in <out>/rows.csv (same checkpoint, --n and --seed)')
    a = ap.parse_args(argv)
    try: ode_steps = [int(v) for v in a.steps.split(',')]
    except ValueError: ap.error(f"--steps {a.steps!r}: comma-separated step counts, e.g. 5,10,18")
    if not ode_steps or min(ode_steps) < 1: ap.error(f"--steps {a.steps!r}: every step count must be at least 1")
    run = Path(a.run); out = Path(a.out or run / 'bench_sampling'); out.mkdir(parents=True, exist_ok=True)
    rc = json.loads((run / 'run_config.json').read_text())
    cfg = RunConfig(**{k: v for k, v in rc.items() if k in RunConfig.__dataclass_fields__})
    ckpt = run / 'checkpoints' / 'last.pt'
    D = load_model(ckpt); ckpt_id = hashlib.sha256(ckpt.read_bytes()).hexdigest()[:12]
    layout, train_sets = run_sets(cfg, 'train'); _, held = run_sets(cfg, 'heldout')
    maps = run_class_maps(cfg, layout)
    clfs, _ = train_or_load_classifiers(train_sets, held, run, epochs=cfg.clf_epochs, seed=cfg.seed, verbose=False)
    real_feats = {n: features(clfs[n], to_float(held[n].images[balanced_indices(held[n].labels, min(1000, len(held[n])), a.seed)])) for n in layout.names}

    combos = [('euler_maruyama', 'replace', 1000, 'linear')] if not a.quick else []
    samplers = ['euler', 'heun', 'dpmpp_2m', 'euler_maruyama', 'pc'] if not a.quick else ['heun', 'dpmpp_2m']
    strategies = ['replace', 'repaint', 'exact', 'guidance'] if not a.quick else ['replace', 'exact']
    for s in samplers:
        for st in strategies:
            for steps in (ode_steps if s in ('euler', 'heun', 'dpmpp_2m') else [10, 20]):
                combos.append((s, st, steps, 'karras'))
    FIELDS = ['sampler', 'strategy', 'steps', 'schedule', 'nfe', 'coherence', 'fd', 's_per_sample', 'n', 'seed', 'checkpoint']
    log, done = out / 'rows.csv', {}
    if a.resume and log.is_file():
        for r in csv.DictReader(open(log)):
            if int(r['n']) == a.n and int(r['seed']) == a.seed and r['checkpoint'] == ckpt_id:
                done[(r['sampler'], r['strategy'], int(r['steps']), r['schedule'])] = {
                    k: (r[k] if k in ('sampler', 'strategy', 'schedule', 'checkpoint') else int(r[k]) if k in ('steps', 'n', 'seed') else float(r[k])) for k in FIELDS}
        print(f"resuming: {len(done)} of {len(combos)} rows already measured in {log}", flush=True)
    else:
        with open(log, 'w', newline='') as f: csv.writer(f).writerow(FIELDS)
    rows = []
    for sampler, strategy, steps, sched in combos:
        if (sampler, strategy, steps, sched) in done: rows.append(done[(sampler, strategy, steps, sched)]); continue
        sig = (get_sigmas_linear if sched == 'linear' else get_sigmas_karras)(steps, D.noise.sigma_min, D.noise.sigma_max)
        C, t0 = CountingDenoiser(D), time.time()
        kw = dict(w=1.0) if strategy == 'guidance' else {}
        gen = cross_modal_samples(C, held, a.n, a.seed, strategy=strategy, sampler=SAMPLERS[sampler], sigmas=sig, **kw)
        secs = time.time() - t0
        coh = list(pairwise_coherence(layout, gen, clfs, maps).values())
        fds = [frechet_distance(real_feats[B], features(clfs[B], layout.split(x)[B])) for A, (x, _) in gen.items() for B in layout.names if B != A]
        n_samples = a.n * len(gen)
        rows.append(dict(sampler=sampler, strategy=strategy, steps=steps, schedule=sched, nfe=C.images / n_samples,
                         coherence=float(np.mean(coh)), fd=float(np.mean(fds)), s_per_sample=secs / n_samples, n=a.n, seed=a.seed, checkpoint=ckpt_id))
        with open(log, 'a', newline='') as f: csv.writer(f).writerow([rows[-1][k] for k in FIELDS])
        r = rows[-1]; print(f"{sampler:15s} {strategy:9s} {steps:5d} NFE {r['nfe']:6.0f} coherence {r['coherence']:.3f} FD {r['fd']:8.2f} {r['s_per_sample'] * 1e3:7.1f} ms/sample", flush=True)
    import pandas as pd, matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    df = pd.DataFrame(rows); df.to_csv(out / 'sampling.csv', index=False)
    print('\n' + markdown_table(df))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colours = {st: f'C{i}' for i, st in enumerate(['replace', 'repaint', 'exact', 'guidance'])}      # colour: strategy
    styles = dict(euler=('-', 'o'), heun=('--', 's'), dpmpp_2m=(':', '^'), euler_maruyama=('-.', 'v'), pc=((0, (1, 3)), 'D'))  # line, marker: sampler
    for (s, st), grp in df[df.nfe <= 200].groupby(['sampler', 'strategy']):
        ls, mk = styles.get(s, ('-', 'o'))
        ax.plot(grp.nfe, grp.coherence, ls=ls, marker=mk, color=colours.get(st, 'gray'), label=f'{s}/{st}')
    ref = df[(df.steps == 1000)]
    if len(ref): ax.axhline(ref.coherence.iloc[0], color='k', ls='--', label='EM 1000 steps / replace')
    ax.set_xscale('log'); ax.set_xlabel('network evaluations (NFE)'); ax.set_ylabel('conditional coherence'); ax.legend(fontsize=6, ncol=1, loc='center left', bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout(); fig.savefig(out / 'coherence_vs_nfe.png', dpi=120)
    best = df[df.nfe <= 20].sort_values('coherence', ascending=False).head(1)
    if len(best) and len(ref):
        print(f"\nbest at NFE ≤ 20: {best.iloc[0].to_dict()}\nreference (EM 1000 / replace): coherence {ref.coherence.iloc[0]:.3f}")

if __name__ == '__main__': main()
