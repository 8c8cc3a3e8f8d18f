"""Guidance in a limited interval: which σ range and weight draw the generated modality's class best?

    python benchmarks/guidance_interval.py CKPT --configs W:LO:HI[,W:LO:HI ...] [--preset cifar10_mnist_pm_cpu] [--conditions digit] [--n 300] [--seed 1] [--steps 18] [--cache DIR] [--clf-epochs E]

Classifier-free guidance of weight W applied only where the generated modalities' σ lies in (LO, HI] (Kynkäänniemi et
al. 2024), the plain denoiser elsewhere; HI = inf: no upper end, which is what the library's `guidance_sigma_min`
(`RunConfig.guidance_sigma_min`) does — an upper end is this script's alone (the library left it out: cutting the
guidance at high σ lost the class here). Conditions: `--n` held-out examples of each modality in `--conditions`
(balanced over classes, drawn with `--seed`; the pipeline's evaluation draws seed 0, so choose on another), Heun
`--steps`; scored by the evaluation classifiers cached in `--cache` (trained there once if missing) and,
on CIFAR-10 × MNIST, by the shipped judge too. Prints one JSON line per config and judge (its seed and n in it).
"""
import argparse, json, math, time
import torch
import mjdiff.conditioning as C
from mjdiff.presets import resolve_config
from mjdiff.stages import run_sets, run_class_maps, run_judges
from mjdiff.checkpoint import load_model
from mjdiff.evaluation import cross_modal_samples, pairwise_coherence
from mjdiff.classifiers import train_or_load_classifiers
from mjdiff.sampling import SAMPLERS, SAMPLER, STEPS


class BandedGuidance(C.GuidedDenoiser):
    "`GuidedDenoiser` whose guidance also stops above `sigma_hi`: guided rows are those with σ_B in (sigma_min, sigma_hi]."
    sigma_hi = math.inf
    def __call__(self, x, sigma, known=None):
        if self.w == 0 or self.sigma_hi == math.inf: return super().__call__(x, sigma, known)
        s = sigma[:, ~self.cond_m.to(sigma.device)].amax(1)
        return C.guide_in_interval((s > self.sigma_min) & (s <= self.sigma_hi), self.plain, self.guided, x, sigma, known)


def configs(text: str) -> list[tuple[float, float, float]]:
    "'4:1:inf,2:0:inf' → [(4.0, 1.0, inf), (2.0, 0.0, inf)]."
    out = []
    for part in text.split(','):
        w, lo, hi = (float(v) for v in part.split(':'))
        if not (w >= 0 and 0 <= lo < hi): raise argparse.ArgumentTypeError(f"{part!r}: want W ≥ 0 and 0 ≤ LO < HI")
        out.append((w, lo, hi))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('ckpt'); ap.add_argument('--configs', type=configs, required=True, help='W:LO:HI, comma-separated')
    ap.add_argument('--preset', default='cifar10_mnist_pm_cpu'); ap.add_argument('--conditions', default='digit')
    ap.add_argument('--n', type=int, default=300); ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--steps', type=int, default=STEPS)
    ap.add_argument('--clf-epochs', type=int, default=None, help="evaluation classifiers' epochs (default: the preset's)")
    ap.add_argument('--cache', default=None, help='evaluation classifiers (default outputs/checkpoint_coherence/<preset>)')
    a = ap.parse_args(argv)
    cfg, t0 = resolve_config(a.preset), time.time()
    D = load_model(a.ckpt)
    layout, train = run_sets(cfg, 'train'); _, held = run_sets(cfg, 'heldout'); maps = run_class_maps(cfg, layout)
    conds = a.conditions.split(',')
    if stray := [m for m in conds if m not in layout.names]: ap.error(f"--conditions {stray}: not in {list(layout.names)}")
    clfs, _ = train_or_load_classifiers(train, held, a.cache or f'outputs/checkpoint_coherence/{a.preset}',
                                        epochs=a.clf_epochs or cfg.clf_epochs, seed=0, verbose=False)
    judge = run_judges(cfg, clfs)
    judges = {'evaluation classifiers': clfs, **({'judge': judge} if judge else {})}
    guided, C.GuidedDenoiser = C.GuidedDenoiser, BandedGuidance      # conditional_sample builds the banded one
    try:
        for w, lo, hi in a.configs:
            BandedGuidance.sigma_hi = hi
            samples = cross_modal_samples(D, {m: held[m] for m in conds}, a.n, a.seed, strategy='guidance',
                                          sampler=SAMPLERS[SAMPLER], steps=a.steps, w=w, guidance_sigma_min=lo)
            for by, c in judges.items():
                res = {k: round(v, 3) for k, v in pairwise_coherence(layout, samples, c, maps).items()}
                print(json.dumps({'ckpt': a.ckpt, 'seed': a.seed, 'n': a.n, 'w': w, 'interval': [lo, 'inf' if hi == math.inf else hi],
                                  'judged_by': by, **res, 'seconds': round(time.time() - t0)}), flush=True)
    finally: C.GuidedDenoiser = guided


if __name__ == '__main__': main()
