"""Quick coherence check of one checkpoint (e.g. an intermediate `last.pt` of `demo_pretrain`, copied aside, or a milestone of the long runs).

    python benchmarks/checkpoint_coherence.py CKPT [--preset demo] [--n 30] [--strategy exact] [--w 0] [--joint-w 0] [--steps 18] [--cache DIR] [--clf-epochs E]

Joint coherence of 3·n joint samples (joint guidance of weight `--joint-w`) and conditional coherence of every ordered pair on n held-out conditions per
modality (balanced over classes), Heun sampler, on the data of `--preset` (default: the embedded demo data) with that preset's data settings
(`--preset cifar10_mnist_pm_cpu`: CIFAR-10 × MNIST from ../shared/data).
The evaluation classifiers are trained once and cached in `--cache` (default `outputs/checkpoint_coherence/<preset>`).
Prints one JSON line. Cheaper and noisier than the pipeline's stages (n = 30: ±0.09 per pair).
"""
import argparse, json, time
from pathlib import Path
import torch
from mjdiff.pipeline import resolve_config, run_sets, run_class_maps, cross_modal_samples, pairwise_coherence
from mjdiff.training import load_model
from mjdiff.sampling import joint_sample, SAMPLERS
from mjdiff.metrics import train_or_load_classifiers, predict, joint_coherence

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('ckpt'); ap.add_argument('--preset', default='demo', help='whose data and evaluation classifiers'); ap.add_argument('--n', type=int, default=30); ap.add_argument('--steps', type=int, default=18)
    ap.add_argument('--strategy', default='exact'); ap.add_argument('--w', type=float, default=0.0)
    ap.add_argument('--joint-w', type=float, default=0.0, help='joint guidance weight of the joint samples')
    ap.add_argument('--cache', default=None, help='default outputs/checkpoint_coherence/<preset>'); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--clf-epochs', type=int, default=None, help="evaluation classifiers' epochs (default: the pipeline's)")
    a = ap.parse_args(argv)
    cfg, t0 = resolve_config(a.preset), time.time()
    D = load_model(a.ckpt)
    layout, train = run_sets(cfg, 'train'); _, held = run_sets(cfg, 'heldout'); maps = run_class_maps(cfg, layout)
    clfs, _ = train_or_load_classifiers(train, held, Path(a.cache or f'outputs/checkpoint_coherence/{a.preset}'), epochs=a.clf_epochs or cfg.clf_epochs, seed=a.seed, verbose=False)
    res = {}
    with torch.no_grad():
        parts = layout.split(joint_sample(D, 3 * a.n, steps=a.steps, w=a.joint_w, generator=torch.Generator().manual_seed(a.seed)))
        res['joint'] = joint_coherence({m: predict(clfs[m], parts[m]) for m in layout.names}, maps)
        gen = cross_modal_samples(D, held, a.n, a.seed, strategy=a.strategy, sampler=SAMPLERS['heun'], steps=a.steps, w=a.w)
    res.update(pairwise_coherence(layout, gen, clfs, maps))
    pairs = [v for k, v in res.items() if '->' in k]
    print(json.dumps({'checkpoint': str(a.ckpt), **{k: round(float(v), 3) for k, v in res.items()},
                      'mean_conditional': round(float(sum(pairs) / len(pairs)), 3), 'seconds': round(time.time() - t0)}), flush=True)

if __name__ == '__main__': main()
