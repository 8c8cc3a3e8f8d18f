"""Does bf16 autocast cost quality? Loss curves of fp32 and bf16 training over the first N steps, same seed.

    python benchmarks/loss_curves.py [--steps 2000] [--batch 16] [--out outputs/bench_loss_curves] [--threads N]

Both runs train the pipeline's default network (`RunConfig().unet()`, 1.2 M parameters) on the demo data with the
same seed, so they see the same batches, σ and ε; only the arithmetic of the forward/backward differs. Reported:

- the training loss curve of each run (`train_log.csv`, plotted together, smoothed) — `curves.png`;
- the mean training loss over the last 20 % of steps;
- a held-out loss: the EDM loss of each run's EMA weights, evaluated in fp32 on the demo `heldout` split (its first `--n_heldout`) with one
  fixed draw of σ (per-modality mode) and ε per example (`--eval_repeats` draws), identical for both runs.
  The same for the raw (non-EMA) weights. This is the number that says whether bf16 training regressed: it removes the bf16 forward from the evaluation.

Written: `<out>/{fp32,bf16}/train_log.csv`, `<out>/curves.png`, `<out>/loss_curves.csv`, and the table on stdout.
"""
import argparse, csv, json, os, sys, time
from pathlib import Path


def held_out_loss(D, x, layout, repeats: int, seed: int = 123) -> float:
    "The EDM loss of `D` on the examples `x`, over `repeats` fixed draws of σ (per-modality) and ε."
    import torch
    from mjdiff.diffusion import sample_sigma, edm_loss
    g = torch.Generator().manual_seed(seed)
    D.eval(); tot = 0.0
    with torch.no_grad():
        for _ in range(repeats):
            sigma = sample_sigma(len(x), len(layout.modalities), 'per_modality', D.noise, generator=g)
            eps = torch.randn(x.shape, generator=g)
            tot += edm_loss(D, x, sigma, D.noise.sigma_data, eps=eps).mean().item()
    return tot / repeats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=2000)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=0, help='torch threads (0: leave the default)')
    ap.add_argument('--eval_repeats', type=int, default=4)
    ap.add_argument('--n_heldout', type=int, default=0, help='held-out examples of the loss (0: all)')
    ap.add_argument('--out', default='outputs/bench_loss_curves')
    a = ap.parse_args(argv)
    import numpy as np, torch
    if a.threads: torch.set_num_threads(a.threads)
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    from mjdiff.data import demo_dataset
    from mjdiff.config import RunConfig
    from mjdiff.training import train, read_log
    from mjdiff.train_config import TrainConfig
    from mjdiff.checkpoint import build_model, load_model
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    data = demo_dataset('train', seed=a.seed); rows = []
    held = demo_dataset('heldout', seed=a.seed); x_held, _ = held.get_batch(list(range(a.n_heldout or len(held))))
    fig, ax = plt.subplots(figsize=(7, 4))
    for prec in ('fp32', 'bf16'):
        torch.manual_seed(a.seed)
        D = build_model(data.layout, RunConfig().unet())
        cfg = TrainConfig(steps=a.steps, batch_size=a.batch, lr=a.lr, warmup=100, precision=prec, seed=a.seed,
                          ckpt_every=max(a.steps // 4, 1), log_every=max(1, min(25, a.steps // 10)), device='cpu')
        t0 = time.time(); train(D, data, cfg, out / prec, resume=False, progress=False); secs = time.time() - t0
        log = read_log(out / prec / 'train_log.csv')
        tail = log['loss'][log['step'] >= 0.8 * log['step'].max()]
        ema = load_model(out / prec / 'checkpoints' / 'last.pt', ema=True)
        rows.append(dict(precision=prec, steps=a.steps, batch=a.batch, seconds=round(secs, 1),
                         train_loss_last20pct=round(float(tail.mean()), 4),
                         heldout_loss_ema=round(held_out_loss(ema, x_held, data.layout, a.eval_repeats), 4),
                         heldout_loss_raw=round(held_out_loss(load_model(out / prec / 'checkpoints' / 'last.pt', ema=False),
                                                              x_held, data.layout, a.eval_repeats), 4)))
        k = max(1, min(8, len(log['loss']))); sm = np.convolve(log['loss'], np.ones(k) / k, mode='valid')
        ax.plot(log['step'], log['loss'], alpha=0.25, color='C0' if prec == 'fp32' else 'C1')
        ax.plot(log['step'][k - 1:], sm, color='C0' if prec == 'fp32' else 'C1', label=f'{prec} (smoothed)')
        print(json.dumps(rows[-1]), flush=True)
    ax.set_yscale('log'); ax.set_xlabel('step'); ax.set_ylabel('EDM training loss'); ax.grid(alpha=.3); ax.legend()
    ax.set_title(f'fp32 vs bf16 autocast, demo data, batch {a.batch}, seed {a.seed}')
    fig.tight_layout(); fig.savefig(out / 'curves.png', dpi=120)
    with open(out / 'loss_curves.csv', 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
    f32, b16 = rows
    print('\n| precision | steps | batch | seconds | train loss (last 20 %) | held-out loss, EMA | held-out loss, raw weights |')
    print('|---|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['precision']} | {r['steps']} | {r['batch']} | {r['seconds']} | {r['train_loss_last20pct']} | {r['heldout_loss_ema']} | {r['heldout_loss_raw']} |")
    print(f"\nbf16 / fp32: held-out loss ratio {b16['heldout_loss_ema'] / f32['heldout_loss_ema']:.3f}, "
          f"wall-time ratio {b16['seconds'] / f32['seconds']:.2f}")


if __name__ == '__main__':
    main()
