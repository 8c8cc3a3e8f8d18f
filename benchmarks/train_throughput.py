"""Training throughput: images/s, peak memory and model FLOPs utilisation (MFU) of mjdiff's trainer, one speed lever at a time.

    python benchmarks/train_throughput.py [--quick] [--device auto|cpu|cuda] [--batch 64] [--threads N] [--rows a,b,...]

Every row runs the real `mjdiff.training.train` (data loading, σ/ε draws, autocast, backward, clipping, AdamW, EMA)
in a fresh subprocess, on the demo layout (5 channels, 32×32) with the pipeline's default network
(`RunConfig().unet()`, 1.2 M parameters), and times the steps after a warm-up (which absorbs `torch.compile`).

- images/s: global batch / median wall time of an optimizer step (timed by a global optimizer step hook, so data
  loading, σ/ε, EMA and logging are included); with `--repeat R` the rows are measured R times round-robin and the
  best run is kept (a shared machine only ever slows a run down). On CPU also images per CPU-second of the training
  process (`time.process_time`: all its threads, not DataLoader workers), which time spent waiting for a core on a
  busy machine does not inflate — compare levers with it when the load average is above the core count.
- peak memory: on CUDA `torch.cuda.max_memory_allocated()`; on CPU the growth of the process's resident-set
  high-water mark during training, `ru_maxrss` (getrusage) after `train` minus the RSS just before it — i.e.
  activations, gradients, optimizer state, EMA and compile artefacts, not the interpreter or the data. DataLoader
  worker processes (`num_workers`) are separate processes and are not included. No tracemalloc (it would slow
  the step and does not see torch's allocator).
- MFU: model FLOPs of one forward+backward (counted by `torch.utils.flop_counter.FlopCounterMode`, without
  activation-checkpointing recompute) × steps/s, divided by the peak FLOP/s of a large matmul of the row's dtype
  (fp32 or bf16) measured in the same subprocess.

The baseline is `fp32`: every lever off. The reference network is diffusers' `UNet2DModel` of about the same
size, trained through the same trainer (wrapped in the same EDM preconditioning); it needs
`pip install diffusers` (a benchmark-only extra) and is skipped with a message otherwise.
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time
from dataclasses import dataclass, asdict
from pathlib import Path

# name → (network, TrainConfig overrides, UNetConfig overrides)
OFF = dict(precision='fp32', channels_last=False, compile=False, foreach=False, num_workers=0, grad_accum=1)
EAGER = dict(precision='bf16', foreach=True)
ALL = dict(precision='bf16', channels_last=True, compile=True, foreach=True, num_workers=1)
ROWS = {
    'fp32 (baseline)':          ('mjdiff', {}, {}),
    'bf16 autocast':            ('mjdiff', dict(precision='bf16'), {}),
    "precision='auto' (the default: bf16 where native)": ('mjdiff', dict(precision='auto'), {}),
    'channels_last':            ('mjdiff', dict(channels_last=True), {}),
    'compile':                  ('mjdiff', dict(compile=True), {}),
    'fused AdamW (foreach)':    ('mjdiff', dict(foreach=True), {}),
    'num_workers=1':            ('mjdiff', dict(num_workers=1), {}),
    'grad_accum=2':             ('mjdiff', dict(grad_accum=2), {}),
    'activation checkpointing': ('mjdiff', {}, dict(checkpointing=True)),
    'bf16+fused':               ('mjdiff', EAGER, {}),
    'bf16+compile+fused':       ('mjdiff', dict(EAGER, compile=True), {}),
    'all speed levers (bf16+channels_last+compile+fused+num_workers=1)': ('mjdiff', ALL, {}),
    'diffusers UNet2DModel fp32': ('diffusers', {}, {}),
    'diffusers UNet2DModel bf16+fused': ('diffusers', EAGER, {}),
}
BASELINE, DIFFUSERS_BASELINE = 'fp32 (baseline)', 'diffusers UNet2DModel fp32'

def diffusers_available() -> bool:
    try: import diffusers; return True                                       # noqa: F401
    except Exception: return False

@dataclass
class DiffusersUNetConfig:
    "The diffusers UNet2DModel used as the reference (≈ the same parameter count, resolution and attention at 16×16)."
    block_out_channels: tuple = (32, 64, 64)
    layers_per_block: int = 1
    down_block_types: tuple = ('DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D')
    up_block_types: tuple = ('UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D')
    norm_num_groups: int = 8

def diffusers_denoiser(layout):
    "UNet2DModel behind mjdiff's raw-network contract `F(x, c_noise [B,M], known)`, in EDM preconditioning (speed only)."
    import torch
    from diffusers import UNet2DModel
    from mjdiff.diffusion import Precond
    class DiffusersNet(torch.nn.Module):
        def __init__(self, cfg):
            super().__init__(); self.cfg = cfg
            self.unet = UNet2DModel(sample_size=layout.size, in_channels=layout.channels, out_channels=layout.channels, **asdict(cfg))
        def forward(self, x, c_noise, known): return self.unet(x, c_noise.mean(1)).sample   # one noise level: the mean
    return Precond(DiffusersNet(DiffusersUNetConfig()), layout)

def rss_bytes() -> int:
    "Current resident set size (Linux /proc; falls back to the high-water mark elsewhere)."
    try: return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
    except OSError: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == 'darwin' else 1024)

def matmul_peak(dtype, device, n: int = 1024, seconds: float = 1.0, windows: int = 5) -> float:
    "Best FLOP/s of an n×n matmul in `dtype` over several short timing windows (the best is the least disturbed)."
    import torch
    a, b = torch.randn(n, n, device=device).to(dtype), torch.randn(n, n, device=device).to(dtype)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    for _ in range(3): a @ b
    best = 0.0
    for _ in range(windows):
        sync(); t0, reps = time.perf_counter(), 0
        while time.perf_counter() - t0 < seconds / windows: a @ b; reps += 1
        sync(); best = max(best, 2 * n ** 3 * reps / (time.perf_counter() - t0))
    return best

def model_flops(D, batch: int, device) -> float:
    "FLOPs of one forward + backward of `D` on a batch (model FLOPs: no checkpointing recompute)."
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    net_cfg = getattr(D.net, 'cfg', None); ck = getattr(net_cfg, 'checkpointing', False)
    if ck: net_cfg.checkpointing = False
    x = torch.randn(batch, D.layout.channels, D.layout.size, D.layout.size, device=device)
    sigma = torch.rand(batch, D.layout.M, device=device) + 0.1
    with FlopCounterMode(display=False) as fc:
        D(x, sigma).square().mean().backward()
    D.zero_grad(set_to_none=True)
    if ck: net_cfg.checkpointing = True
    return float(fc.get_total_flops())

def run_row(name: str, a) -> dict:
    "Measure one row in this process."
    import numpy as np, torch
    from mjdiff.data import demo_dataset
    from mjdiff.config import RunConfig
    from mjdiff.networks import UNetConfig, n_params
    from mjdiff.training import train
    from mjdiff.train_config import TrainConfig, resolve_precision
    from mjdiff.checkpoint import build_model, get_device
    torch.set_num_threads(a.threads)
    kind, tr, net = ROWS[name]
    device = get_device(a.device)
    data = demo_dataset('train', n_per_class=50)
    torch.manual_seed(0)
    D = diffusers_denoiser(data.layout) if kind == 'diffusers' else build_model(data.layout, UNetConfig(**{**asdict(RunConfig().unet()), **net}))
    steps = a.warmup + a.steps
    cfg = TrainConfig(**{**OFF, **tr}, steps=steps, batch_size=a.batch, lr=2e-4, warmup=1, log_every=1, ckpt_every=10 ** 9, device=str(device))
    dtype = torch.bfloat16 if resolve_precision(cfg.precision, device) == 'bf16' else torch.float32   # 'auto' as trained
    peak_flops = matmul_peak(dtype, device)                    # before and after training: the better of the two
    stamps = []                                                # (wall, CPU time of this process) after every optimizer step
    from torch.optim.optimizer import register_optimizer_step_post_hook
    hook = register_optimizer_step_post_hook(lambda *_: stamps.append((time.perf_counter(), time.process_time())))
    with tempfile.TemporaryDirectory() as tmp:
        if device.type == 'cuda': torch.cuda.reset_peak_memory_stats()
        rss0 = rss_bytes()
        train(D, data, cfg, tmp, progress=False)
        peak = torch.cuda.max_memory_allocated() if device.type == 'cuda' else \
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss0
    hook.remove()
    dt = np.diff(np.array(stamps), axis=0)[a.warmup - 1:]     # the timed steps
    ips, cpu_ips = a.batch / float(np.median(dt[:, 0])), a.batch / float(np.median(dt[:, 1]))
    flops = model_flops(D.float().to(memory_format=torch.contiguous_format), a.batch, device)
    peak_flops = max(peak_flops, matmul_peak(dtype, device))
    return dict(name=name, params=n_params(D), images_per_s=ips, cpu_images_per_s=cpu_ips, step_ms=1000 * a.batch / ips, peak_mb=peak / 2 ** 20,
                gflop_per_image=flops / a.batch / 1e9, achieved_gflops=flops / a.batch * ips / 1e9,
                peak_gflops=peak_flops / 1e9, mfu=flops / a.batch * ips / peak_flops, dtype=str(dtype).split('.')[-1],
                device=str(device), threads=torch.get_num_threads(), torch=torch.__version__)

def table(results: list[dict]) -> str:
    "The markdown table, with ratios against the fp32 baseline and the diffusers fp32 reference."
    by = {r['name']: r for r in results if 'images_per_s' in r}
    base, ref = by.get(BASELINE), by.get(DIFFUSERS_BASELINE)
    ratio = lambda r, b, k='images_per_s': f"{r[k] / b[k]:.2f}×" if b else '–'
    cpu = any(r.get('device', '').startswith('cpu') for r in results)
    lines = ['| configuration | params | images/s | vs fp32 baseline | vs diffusers fp32 | step ms | peak MB | GFLOP/img | MFU (peak matmul) |'
             + (' images/CPU-s | vs fp32 (CPU time) |' if cpu else ''),
             '|---|---:|---:|---:|---:|---:|---:|---:|---:|' + ('---:|---:|' if cpu else '')]
    for r in results:
        if 'skip' in r: lines.append(f"| {r['name']} | – | skipped: {r['skip']} | | | | | | |" + (' | |' if cpu else '')); continue
        lines.append(f"| {r['name']} | {r['params'] / 1e6:.2f} M | {r['images_per_s']:.1f} | {ratio(r, base)} | {ratio(r, ref)} | "
                     f"{r['step_ms']:.0f} | {r['peak_mb']:.0f} | {r['gflop_per_image']:.3f} | "
                     f"{100 * r['mfu']:.1f} % of {r['peak_gflops']:.0f} GFLOP/s {r['dtype']} |"
                     + (f" {r['cpu_images_per_s']:.1f} | {ratio(r, base, 'cpu_images_per_s')} |" if cpu else ''))
    return '\n'.join(lines)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--quick', action='store_true', help='2 warm-up + 5 timed steps per row (default 3 + 15)')
    ap.add_argument('--repeat', type=int, default=1, help='measure every row this many times, round-robin; keep the best (noisy, shared machines)')
    ap.add_argument('--device', default='auto'); ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--threads', type=int, default=os.cpu_count() or 1, help='torch intra-op threads (CPU)')
    ap.add_argument('--rows', default=None, help='comma-separated subset of: ' + '; '.join(ROWS))
    ap.add_argument('--warmup', type=int, default=None); ap.add_argument('--steps', type=int, default=None)
    ap.add_argument('--save', default=None, help='also write the results as JSON')
    ap.add_argument('--row', default=None, help=argparse.SUPPRESS)             # child mode: measure one row, print JSON
    a = ap.parse_args(argv)
    a.warmup = a.warmup if a.warmup is not None else (2 if a.quick else 3)
    a.steps = a.steps if a.steps is not None else (5 if a.quick else 15)
    if a.row:
        print('RESULT ' + json.dumps(run_row(a.row, a)), flush=True); return 0
    names = [n.strip() for n in a.rows.split(',')] if a.rows else list(ROWS)
    for n in names:
        if n not in ROWS: ap.error(f"unknown row {n!r}; rows: {list(ROWS)}")
    load0 = os.getloadavg()
    print(f"# train_throughput: {' '.join(sys.argv)}\n# batch {a.batch}, {a.warmup} warm-up + {a.steps} timed steps per row, best of {a.repeat}, "
          f"{a.threads} thread(s), load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}", flush=True)
    env = {**os.environ, 'OMP_NUM_THREADS': str(a.threads), 'PYTHONWARNINGS': 'ignore'}
    best = {}
    for rnd in range(a.repeat):
        for n in names:
            if ROWS[n][0] == 'diffusers' and not diffusers_available():
                if rnd == 0: print(f"# skip {n}: diffusers is not importable; `pip install diffusers` to measure the reference", flush=True)
                best[n] = dict(name=n, skip='diffusers not importable (pip install diffusers)'); continue
            t0 = time.time()
            cmd = [sys.executable, __file__, '--row', n, '--device', a.device, '--batch', str(a.batch), '--threads', str(a.threads),
                   '--warmup', str(a.warmup), '--steps', str(a.steps)]
            p = subprocess.run(cmd, capture_output=True, text=True, env=env)
            out = [l for l in p.stdout.splitlines() if l.startswith('RESULT ')]
            if p.returncode or not out:
                best.setdefault(n, dict(name=n, skip=f'failed (exit {p.returncode}): ' + (p.stderr.strip().splitlines() or ['?'])[-1][:120]))
                print(f"# {n}: FAILED\n{p.stderr[-2000:]}", flush=True); continue
            r = json.loads(out[-1][7:])
            if 'images_per_s' not in best.get(n, {}) or r['images_per_s'] > best[n]['images_per_s']: best[n] = r
            print(f"# round {rnd + 1}/{a.repeat} {n}: {r['images_per_s']:.1f} images/s ({time.time() - t0:.0f} s, load {os.getloadavg()[0]:.2f})", flush=True)
    results = [best[n] for n in names]
    load1 = os.getloadavg()
    dev = next((r['device'] for r in results if 'device' in r), a.device)
    print(f"\nDevice {dev} ({a.threads} thread(s)), torch {next((r['torch'] for r in results if 'torch' in r), '?')}, batch {a.batch}, 5×32×32, "
          f"load average {load0[0]:.2f} at start / {load1[0]:.2f} at end\n")
    print(table(results))
    if a.save: Path(a.save).write_text(json.dumps(results, indent=1))
    return 0

if __name__ == '__main__':
    sys.exit(main())
