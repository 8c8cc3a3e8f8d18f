"""The CUDA path, checked in one prepared run whenever a GPU is at hand (CI has none; nothing depends on one).

    bash benchmarks/gpu_check.sh                   # on the GPU machine: checks, then ~4 minutes of training
    python benchmarks/gpu_check.py --device cpu --minutes 0.1 --quick     # the same script on a CPU (its smoke test)

1. Checks (each prints PASS or FAIL with a number): the `cifar10_mnist_pm_gpu` network (GPU-sized) trains on the device
   in fp32 and bf16 with finite losses; a run stopped and resumed on the device equals an uninterrupted one bit for bit
   (dropout off); the same weights give the same denoiser output on the device and on the CPU (max |Δ| < 1e-3); joint
   and conditional sampling (exact, guidance, replace) and the learning curve's measurements run on the device and
   give finite results.
2. Throughput: `--minutes` of training of that network at batch 128, bf16 (and fp32), on 4-channel 32×32 data
   (synthetic: the GPU machine has no data set), then a short evaluation (joint samples, 18 Heun steps), printing
   images/s, seconds per sample and peak memory as a table.

Exit status 1 when a check fails. Every number is printed; nothing is written outside `--out` (a temp folder).
"""
import argparse, json, math, os, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np, torch

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--device', default='cuda'); ap.add_argument('--minutes', type=float, default=4.0)
    ap.add_argument('--quick', action='store_true', help='a small network (CPU smoke test of this script)')
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    from mjdiff.layout import Layout, Modality
    from mjdiff.data import ImageSet, PairedDataset
    from mjdiff.presets import resolve_config
    from mjdiff.training import train, load_checkpoint
    from mjdiff.train_config import TrainConfig
    from mjdiff.checkpoint import build_model
    from mjdiff.conditioning import joint_sample, conditional_sample
    from mjdiff.sampling import STEPS
    from mjdiff.stages import run_anchor
    from mjdiff.evaluation import make_probe, cross_modal_information, quick_coherence
    from mjdiff.classifiers import Classifier
    dev = torch.device(a.device)
    if dev.type == 'cuda' and not torch.cuda.is_available(): print("FAIL: no CUDA device visible to torch", torch.__version__); return 1
    print(json.dumps({'torch': torch.__version__, 'device': str(dev), 'name': torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu',
                      'cuda': torch.version.cuda, 'bf16': dev.type != 'cuda' or torch.cuda.is_bf16_supported()}))
    out = Path(a.out or tempfile.mkdtemp(prefix='gpu_check_'))
    cfg = resolve_config('cifar10_mnist_pm_gpu', {'model_channels': 16, 'channel_mult': (1, 2), 'num_blocks': 1} if a.quick else {})
    net = cfg.unet()
    lay = Layout([Modality('photo', 3, 'image'), Modality('digit', 1, 'digit')], size=32)
    rng = np.random.default_rng(0)
    sets = {m: ImageSet(rng.integers(0, 256, (512, c, 32, 32), dtype=np.uint8), np.arange(512) % 10, [str(k) for k in range(10)], m)
            for m, c in (('photo', 3), ('digit', 1))}
    data = PairedDataset(sets, lay, anchor=run_anchor(cfg))
    results, failed = [], []
    def check(name, ok, value):
        results.append((name, 'PASS' if ok else 'FAIL', value)); print(f"{'PASS' if ok else 'FAIL'}  {name}: {value}", flush=True)
        if not ok: failed.append(name)
    # 1. checks
    torch.manual_seed(0); init = build_model(lay, net).state_dict()
    def run(d, precision='fp32', steps=6, **kw):
        D = build_model(lay, net); D.load_state_dict(init)
        tc = TrainConfig(steps=steps, batch_size=16, lr=1e-4, warmup=1, log_every=1, ckpt_every=3, precision=precision, device=str(dev), seed=1)
        s = train(D, data, tc, out / d, progress=False, **kw)
        return D, s
    for prec in ('fp32', 'bf16'):
        _, s = run(f'train_{prec}', prec)
        loss = float(open(out / f'train_{prec}' / 'train_log.csv').read().splitlines()[-1].split(',')[2])
        check(f'trains on {dev.type} ({prec})', math.isfinite(loss) and s['step'] == 6, f'final loss {loss:.4f}')
    net_nodrop = net.__class__(**{**net.__dict__, 'dropout': 0.0})
    net_saved, net = net, net_nodrop
    torch.manual_seed(0); init = build_model(lay, net).state_dict()
    run('resume_a'); run('resume_b', stop_after=3); run('resume_b')
    ca, cb = (load_checkpoint(out / d / 'checkpoints' / 'last.pt') for d in ('resume_a', 'resume_b'))
    same = all(torch.equal(ca[p][k], cb[p][k]) for p in ('model', 'ema') for k in ca[p])
    check(f'resume on {dev.type} is bitwise', same, 'model and EMA identical' if same else 'differ')
    net = net_saved
    D, _ = run('model', 'fp32'); D = D.eval()
    x, sg = torch.randn(4, 4, 32, 32), torch.rand(4, 2) * 3
    with torch.no_grad():
        d_dev = D.to(dev)(x.to(dev), sg.to(dev)).cpu(); d_cpu = D.cpu()(x, sg)
    diff = float((d_dev - d_cpu).abs().max()); D = D.to(dev)
    check(f'{dev.type} and CPU agree', diff < 1e-3, f'max |Δ| = {diff:.2e}')
    g = lambda: torch.Generator(dev).manual_seed(0)
    with torch.no_grad():
        xs = [joint_sample(D, 8, steps=6, generator=g(), device=dev), joint_sample(D, 8, steps=6, w=2.0, generator=g(), device=dev)]
        cond = {'digit': torch.rand(8, 1, 32, 32, device=dev) * 2 - 1}
        xs += [conditional_sample(D, cond, strategy=s, steps=6, w=2.0 if s == 'guidance' else 0.0, generator=g()) for s in ('exact', 'guidance', 'replace')]
    check(f'sampling on {dev.type}', all(bool(torch.isfinite(v).all()) and v.device.type == dev.type for v in xs), 'joint, joint-guided, exact, guidance, replace: finite')
    probe = make_probe(sets, lay, 20, anchor=run_anchor(cfg))
    info = cross_modal_information(D, probe, 'photo', 'digit', (0.5, 2.0))
    clfs = {'photo': Classifier(3, 10).to(dev).eval(), 'digit': Classifier(1, 10).to(dev).eval()}
    q = quick_coherence(D, sets, clfs, {'photo': list(range(10)), 'digit': list(range(10))}, 10, 10, 4, w=2.0, device=dev)
    check(f'learning curve on {dev.type}', np.isfinite(info).all() and all(0 <= v <= 1 for k, v in q.items() if not k.startswith('balance')),
          f'information {np.round(info, 4).tolist()}, {len(q)} coherence values')
    # 2. throughput
    rows = []
    for prec in ('bf16', 'fp32'):
        D = build_model(lay, net); n_par = sum(p.numel() for p in D.parameters())
        if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev)
        steps, t0 = 0, time.time()
        tc = TrainConfig(steps=10 ** 7, batch_size=128 if not a.quick else 16, lr=2e-4, warmup=10, log_every=50, ckpt_every=10 ** 7, precision=prec, device=str(dev))
        budget = a.minutes * 60 / 2
        class Stop(Exception): pass
        def timer(step, ema, stats):
            if time.time() - t0 > budget: raise Stop(stats)
        try: train(D, data, TrainConfig(**{**tc.__dict__, 'eval_every': 4 if a.quick else 20}), out / f'speed_{prec}', progress=False, evaluate=timer)
        except Stop as e: stats = e.args[0]
        ips = stats['images'] / max(stats['seconds'], 1e-9)
        mem = torch.cuda.max_memory_allocated(dev) / 2 ** 30 if dev.type == 'cuda' else float('nan')
        E = D.eval(); t1 = time.time()
        with torch.no_grad(): joint_sample(E, 64 if not a.quick else 8, steps=STEPS, generator=g(), device=dev)
        if dev.type == 'cuda': torch.cuda.synchronize(dev)
        rows.append(dict(precision=prec, params_M=round(n_par / 1e6, 2), images=stats['images'], images_per_s=round(ips, 1),
                         ms_per_joint_sample=round(1000 * (time.time() - t1) / (64 if not a.quick else 8), 2), peak_GiB=round(mem, 2)))
    print('\n| ' + ' | '.join(rows[0]) + ' |\n|' + '---|' * len(rows[0]))
    for r in rows: print('| ' + ' | '.join(str(v) for v in r.values()) + ' |')
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0

if __name__ == '__main__': sys.exit(main())
