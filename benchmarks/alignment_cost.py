"""What representation alignment costs per training image: images/s of the real trainer with each lever on and off.

    python benchmarks/alignment_cost.py [--steps 20] [--rounds 3] [--threads 2] [--preset cifar10_mnist_pretrain]

Every row trains the preset's network (the long CIFAR-10 × MNIST runs' by default: 2.4 M parameters, bf16, batch 64)
with `mjdiff.training.train` for `--steps` steps on random data of the preset's layout (the data loader is not what is
measured) and reports the median images/s of the logged windows after each run's first (warm-up), and the slowdown
against the row without alignment. The rows run `--rounds` times, interleaved (each round in another order), so a
machine whose speed drifts slows every row alike; the last column is the range of the rounds' own medians. REPA's encoder is `ALIGN_ENCODER`'s network (untrained: its cost does not depend on its
weights); SRA's teacher is the run's own EMA network. Time it on an idle machine.
"""
import argparse, statistics, tempfile, time
from pathlib import Path
import numpy as np, torch

ROWS = {
    'off (the preset)':              {},
    'xflip photo':                   dict(xflip='photo'),
    'REPA photo, mid (4×4)':         dict(align_modality='photo', align_encoder='cached', align_stage='mid'),
    'REPA photo, down7 (8×8)':       dict(align_modality='photo', align_encoder='cached', align_stage='down7'),
    'SRA photo, down7 -> up6 (8×8)': dict(align_modality='photo', align_with='ema', align_stage='down7', align_teacher_stage='up6'),
}

def random_dataset(layout, n=2000, seed=0):
    from mjdiff.data import ImageSet, PairedDataset
    rng = np.random.default_rng(seed)
    sets = {m.name: ImageSet(rng.integers(0, 256, (n, m.channels, layout.size, layout.size), dtype=np.uint8), np.arange(n) % 10,
                             [str(k) for k in range(10)], m.name) for m in layout.modalities}
    return PairedDataset(sets, layout, seed=seed)

def encoder_for(cfg):
    "`ALIGN_ENCODER`'s network, untrained, as REPA's encoder (its features after `align_encoder_depth` groups)."
    from mjdiff.stages import ALIGN_ENCODER
    from mjdiff.judge import JudgeNet, JudgeFeatures
    torch.manual_seed(0)
    return JudgeFeatures(JudgeNet(ALIGN_ENCODER['widths']).eval(), cfg.align_encoder_depth)

def row(preset: str, overrides: dict, steps: int) -> list[float]:
    "The images/s of each logged window after the first, training `steps` steps of the preset with `overrides`."
    from mjdiff.presets import resolve_config
    from mjdiff.training import train, read_log
    from mjdiff.checkpoint import build_model
    cfg = resolve_config(preset, {'steps': steps, 'log_every': 5, 'ckpt_every': 10 ** 6, 'eval_every': 0, 'milestone_every': 0, **overrides})
    data = random_dataset(cfg.layout())
    torch.manual_seed(0)
    D = build_model(data.layout, cfg.unet(), cfg.noise())
    enc = encoder_for(cfg) if cfg.align_modality and cfg.align_with == 'encoder' else None
    with tempfile.TemporaryDirectory() as d:
        train(D, data, cfg.train_config(), d, progress=False, align_encoder=enc)
        return [float(v) for v in read_log(Path(d) / 'train_log.csv')['images_per_s'][1:]]

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=20); ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--preset', default='cifar10_mnist_pretrain')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.steps < 10 or a.rounds < 1: ap.error("--steps must be ≥ 10 (two logged windows) and --rounds ≥ 1")
    print(f"preset {a.preset}, {a.rounds} rounds of {a.steps} steps a row, {a.threads} thread(s), torch {torch.__version__}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    names, windows, rounds = list(ROWS), {n: [] for n in ROWS}, {n: [] for n in ROWS}
    for r in range(a.rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:          # each round starts at another row
            w = row(a.preset, ROWS[name], a.steps)
            windows[name] += w; rounds[name].append(statistics.median(w))
    print(f"| {'row':<30} | images/s | slowdown | rounds' images/s |\n|{'-' * 32}|---------:|---------:|---|")
    base = statistics.median(windows[names[0]])
    for name in names:
        ips = statistics.median(windows[name])
        print(f"| {name:<30} | {ips:8.1f} | {100 * (base / ips - 1):+7.1f} % | {min(rounds[name]):.1f}–{max(rounds[name]):.1f} |")

if __name__ == '__main__': main()
