"""Quick coherence check of one checkpoint (e.g. an intermediate `last.pt` of `demo_pretrain`, copied aside, or a milestone of the long runs).

    python benchmarks/checkpoint_coherence.py CKPT [--preset demo] [--n 30] [--n-joint 3n] [--strategy exact] [--conditions A,B] [--w 0] [--sigma-min 0] [--joint-w 0] [--joint-sigma-min 0] [--steps 18] [--cache DIR] [--also DIR,...] [--judge] [--clf-epochs E] [--seed 0] [--sample-seed S]

Joint coherence and class balance (per modality) of `--n-joint` joint samples (default 3·n; 0: none) with joint guidance of weight `--joint-w` (above σ = `--joint-sigma-min`), and conditional coherence of every
ordered pair on n held-out conditions per modality (of `--conditions` only, if given; balanced over classes; n = 0: none) with strategy `--strategy` and guidance `--w`
(applied where the generated σ exceeds `--sigma-min`: guidance in a limited interval), Heun
sampler, on the data of `--preset` (default: the embedded demo data) with that preset's data settings (`--preset cifar10_mnist_pm_cpu`:
CIFAR-10 × MNIST from ../shared/data). `--w` and `--joint-w` take comma-separated lists (a guidance sweep: `--strategy guidance --w 0,1,2,3,4`):
one line per weight, the same conditions, seeds and classifiers for each.
The evaluation classifiers are trained once and cached in `--cache` (default `outputs/checkpoint_coherence/<preset>`).
`--also DIR[,DIR]` scores the same samples with other classifiers too, loaded from each DIR's `classifiers/` (a
cache like `--cache`, or an evaluation run's folder; never trained here), and `--judge` with the shipped judge in the photo's place (`mjdiff.judge`;
CIFAR-10 × MNIST): one line each, `judged_by` naming the classifiers (the retraining noise of an evaluation).
`--seed` seeds the classifiers, and the conditions and samples unless `--sample-seed` picks others (to choose a setting
on other conditions than an evaluation's, with the same classifiers). Prints JSON lines. Cheaper and noisier than the pipeline's stages (n = 30: ±0.09 per pair).
"""
import argparse, json, time
from pathlib import Path
import torch
from mjdiff.evaluation import cross_modal_samples, pairwise_coherence
from mjdiff.stages import run_sets, run_class_maps, run_judges
from mjdiff.presets import resolve_config
from mjdiff.checkpoint import load_model
from mjdiff.sampling import SAMPLERS, SAMPLER, STEPS
from mjdiff.conditioning import joint_sample
from mjdiff.metrics import joint_coherence, class_balance
from mjdiff.classifiers import train_or_load_classifiers, load_classifier, predict

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('ckpt'); ap.add_argument('--preset', default='demo', help='whose data and evaluation classifiers'); ap.add_argument('--n', type=int, default=30); ap.add_argument('--steps', type=int, default=STEPS)
    ap.add_argument('--n-joint', type=int, default=None, help='joint samples (default 3·n; 0: none)')
    ap.add_argument('--strategy', default='exact'); ap.add_argument('--w', type=weights, default=(0.0,), help='guidance weight(s) of the conditionals, e.g. 0,1,2')
    ap.add_argument('--conditions', default='', help='the modalities to condition on, comma-separated (default: each in turn)')
    ap.add_argument('--sigma-min', type=float, default=0.0, help="guidance only where the generated modalities' σ exceeds it (0: at every σ)")
    ap.add_argument('--joint-w', type=weights, default=(0.0,), help='joint guidance weight(s) of the joint samples')
    ap.add_argument('--joint-sigma-min', type=float, default=0.0, help="joint guidance only where σ exceeds it (0: at every σ)")
    ap.add_argument('--cache', default=None, help='default outputs/checkpoint_coherence/<preset>'); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--sample-seed', type=int, default=None, help='seed of the conditions and samples (default: --seed)')
    ap.add_argument('--clf-epochs', type=int, default=None, help="evaluation classifiers' epochs (default: the pipeline's)")
    ap.add_argument('--also', default='', help='comma-separated folders of other evaluation classifiers to score the same samples with')
    ap.add_argument('--judge', action='store_true', help="score the same samples with the shipped judge of the photos too")
    a = ap.parse_args(argv)
    also = [Path(d) for d in a.also.split(',') if d]
    for d in also:
        if not (d / 'classifiers').is_dir(): ap.error(f"--also {d}: no classifiers/ folder of evaluation classifiers in it")
    cfg, t0 = resolve_config(a.preset), time.time()
    judge = run_judges(cfg, {}) if a.judge else None                 # {'photo': the judge}, loaded once
    if a.judge and judge is None: ap.error(f"--judge: no judge is shipped for the data of preset {a.preset!r}")
    D = load_model(a.ckpt)
    layout, train = run_sets(cfg, 'train'); _, held = run_sets(cfg, 'heldout'); maps = run_class_maps(cfg, layout)
    cache = Path(a.cache or f'outputs/checkpoint_coherence/{a.preset}')
    clfs, _ = train_or_load_classifiers(train, held, cache, epochs=a.clf_epochs or cfg.clf_epochs, seed=a.seed, verbose=False)
    judges = {str(cache): clfs, **{str(d): {m: load_classifier(d / 'classifiers' / f'{m}.pt') for m in layout.names} for d in also}}
    if judge: judges['judge'] = {**clfs, **judge}
    conds = [m for m in a.conditions.split(',') if m] or list(layout.names)
    if stray := [m for m in conds if m not in layout.names]: ap.error(f"--conditions {','.join(stray)}: not a modality of {list(layout.names)}")
    n_joint = 3 * a.n if a.n_joint is None else a.n_joint
    s = a.seed if a.sample_seed is None else a.sample_seed
    def report(by, **res):
        print(json.dumps({'checkpoint': str(a.ckpt), **{k: (round(float(v), 3) if isinstance(v, float) else v) for k, v in res.items()},
                          **({'judged_by': by} if len(judges) > 1 else {}), 'seconds': round(time.time() - t0)}), flush=True)
    with torch.no_grad():
        for jw in a.joint_w if n_joint else ():
            parts = layout.split(joint_sample(D, n_joint, steps=a.steps, w=jw, guidance_sigma_min=a.joint_sigma_min, generator=torch.Generator().manual_seed(s)))
            for by, c in judges.items():
                preds = {m: predict(c[m], parts[m]) for m in layout.names}
                report(by, joint_w=jw, **({'joint_sigma_min': a.joint_sigma_min} if a.joint_sigma_min else {}), n_joint=n_joint, joint=joint_coherence(preds, maps),
                       **{f'balance_{m}': class_balance(p, len(maps[m])) for m, p in preds.items()})
        for w in a.w if a.n else ():
            samples = cross_modal_samples(D, {m: held[m] for m in conds}, a.n, s, strategy=a.strategy, sampler=SAMPLERS[SAMPLER], steps=a.steps, w=w,
                                          guidance_sigma_min=a.sigma_min)
            for by, c in judges.items():
                res = pairwise_coherence(layout, samples, c, maps)
                report(by, strategy=a.strategy, w=w, **({'sigma_min': a.sigma_min} if a.sigma_min else {}), n=a.n, **res, mean_conditional=sum(res.values()) / len(res))

def weights(text: str) -> tuple:
    "'2' or '0,1,2' → (2.0,) or (0.0, 1.0, 2.0)."
    return tuple(float(v) for v in text.split(','))

if __name__ == '__main__': main()
