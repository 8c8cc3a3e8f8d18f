"Exact resume, the data-loading lever, checkpoint file modes, and checkpoints that survive SIGKILL mid-write."
import os, random, signal, subprocess, sys, time
from dataclasses import asdict
from pathlib import Path
import pytest, torch
from mjdiff.data import demo_dataset
from mjdiff.networks import UNetConfig
from mjdiff.training import train, load_checkpoint, atomic_save, remove_stale_tmp, read_log, CheckpointError
from mjdiff.train_config import TrainConfig
from mjdiff.checkpoint import build_model

TINY = UNetConfig(model_channels=16, channel_mult=(1, 2), num_blocks=1, attn_resolutions=(), dropout=0.1)

@pytest.fixture(scope='module')
def data(): return demo_dataset('train', n_per_class=6)          # 60 items: 16-batches cross epoch boundaries

def _run(data, cfg, run_dir, init, **kw):
    D = build_model(data.layout, TINY); D.load_state_dict(init)
    return train(D, data, cfg, run_dir, progress=False, **kw)

def _same(a, b, where=''):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a: _same(a[k], b[k], f'{where}.{k}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)): _same(x, y, f'{where}[{i}]')
    elif isinstance(a, torch.Tensor): assert torch.equal(a, b), where
    else: assert a == b, where

def test_resume_is_bitwise(data, tmp_path):
    "N steps == N/2, stop, resume in a fresh model, N/2 more: model, EMA, optimizer state and log identical (dropout on)."
    torch.manual_seed(0); init = build_model(data.layout, TINY).state_dict()
    cfg = TrainConfig(steps=8, batch_size=16, lr=2e-3, warmup=2, log_every=2, ckpt_every=3, grad_accum=2, seed=5)
    _run(data, cfg, tmp_path / 'a', init)
    _run(data, cfg, tmp_path / 'b', init, stop_after=4)
    assert load_checkpoint(tmp_path / 'b/checkpoints/last.pt')['step'] == 4
    torch.manual_seed(123); _run(data, cfg, tmp_path / 'b', build_model(data.layout, TINY).state_dict())   # other weights: resume must ignore them
    ca, cb = load_checkpoint(tmp_path / 'a/checkpoints/last.pt'), load_checkpoint(tmp_path / 'b/checkpoints/last.pt')
    assert ca['step'] == cb['step'] == 8
    for part in ('model', 'ema', 'optimizer'): _same(ca[part], cb[part], part)
    la, lb = read_log(tmp_path / 'a/train_log.csv'), read_log(tmp_path / 'b/train_log.csv')
    for k in ('step', 'epoch', 'loss', 'lr', 'grad_norm'): assert (la[k] == lb[k]).all(), k

def test_loader_workers_do_not_change_results(data, tmp_path):
    "Loading ahead in a worker process trains on exactly the same batches."
    torch.manual_seed(0); init = build_model(data.layout, TINY).state_dict()
    cfg = TrainConfig(steps=5, batch_size=16, lr=2e-3, warmup=1, log_every=1, ckpt_every=100)
    _run(data, cfg, tmp_path / 'w0', init)
    _run(data, TrainConfig(**{**asdict(cfg), 'num_workers': 1}), tmp_path / 'w1', init)
    c0, c1 = load_checkpoint(tmp_path / 'w0/checkpoints/last.pt'), load_checkpoint(tmp_path / 'w1/checkpoints/last.pt')
    for part in ('model', 'ema', 'optimizer'): _same(c0[part], c1[part], part)

def test_atomic_save_mode_and_stale_tmp(tmp_path):
    old = os.umask(0o077)
    try: atomic_save({'a': 1}, tmp_path / 'x.json'); atomic_save({'model': {}, 'config': {}}, tmp_path / 'c.pt')
    finally: os.umask(old)
    assert (tmp_path / 'x.json').stat().st_mode & 0o777 == 0o644
    assert (tmp_path / 'c.pt').stat().st_mode & 0o777 == 0o644
    (tmp_path / '.c.pt.abc123.tmp').write_bytes(b'partial')
    assert remove_stale_tmp(tmp_path / 'c.pt') == 1 and load_checkpoint(tmp_path / 'c.pt')['model'] == {}

WRITER = r'''
import io, sys, time, torch
import mjdiff.training as T
path, v = sys.argv[1], int(sys.argv[2])
real_save = torch.save
def slow_save(obj, f, *a, **k):                  # serialise, then write in 64 KiB chunks slowly: a wide kill window
    buf = io.BytesIO(); real_save(obj, buf, *a, **k); b = buf.getvalue()
    for i in range(0, len(b), 1 << 16): f.write(b[i:i + (1 << 16)]); f.flush(); time.sleep(0.003)
torch.save = slow_save
while True:
    print(f'writing {v}', flush=True)
    T.atomic_save({'step': v, 'model': {'w': torch.full((1_000_000,), float(v))}, 'config': {}}, path)
    print(f'wrote {v}', flush=True); v += 1
'''

def test_sigkill_during_checkpoint_write_keeps_previous(tmp_path):
    "Kill a process writing checkpoints in a loop at random moments mid-write: `last.pt` always loads, whole and consistent."
    script, ck = tmp_path / 'writer.py', tmp_path / 'last.pt'
    script.write_text(WRITER)
    rng, version, mid_write = random.Random(0), 1, 0
    for trial in range(4):
        remove_stale_tmp(ck)                                        # what train() does on start
        p = subprocess.Popen([sys.executable, str(script), str(ck), str(version)], stdout=subprocess.PIPE, text=True)
        try:
            # first trial: let one write complete so that there is a good checkpoint; then kill during the next one
            if trial == 0: assert p.stdout.readline().startswith('writing') and p.stdout.readline().strip() == f'wrote {version}'
            line = p.stdout.readline(); assert line.startswith('writing'), line
            writing = int(line.split()[1])
            t0 = time.time()
            while not list(tmp_path.glob('.last.pt.*.tmp')) and time.time() - t0 < 30: time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.15))                     # a write takes ≥ 16 chunks × 3 ms ≈ 0.2 s and more
            tmp_present = bool(list(tmp_path.glob('.last.pt.*.tmp')))
            p.send_signal(signal.SIGKILL)
        finally:
            p.kill(); p.wait()
        rest = p.stdout.read()
        ckpt = load_checkpoint(ck)                                  # never raises: the old file or the complete new one
        assert ckpt['step'] in (writing - 1, writing), (ckpt['step'], writing)
        assert torch.equal(ckpt['model']['w'], torch.full((1_000_000,), float(ckpt['step'])))
        assert oct(ck.stat().st_mode & 0o777) == '0o644'
        if tmp_present and f'wrote {writing}' not in rest and ckpt['step'] == writing - 1: mid_write += 1
        version = ckpt['step'] + 1
    assert mid_write >= 3, f"only {mid_write} of 4 kills landed mid-write"
    assert remove_stale_tmp(ck) >= 1 and not list(tmp_path.glob('.last.pt.*.tmp'))

def _spy_inputs(monkeypatch, data):
    "`(seen, init, cfg)`: the (x, σ) of every loss call go to `seen`; fixed initial weights; a 4-step config with many known modalities."
    import mjdiff.training as T
    seen, edm = [], T.edm_loss
    def spy(D, x, sigma, *a, **k):
        seen.append((x.detach().clone(), sigma.clone())); return edm(D, x, sigma, *a, **k)
    monkeypatch.setattr(T, 'edm_loss', spy)
    torch.manual_seed(0); init = build_model(data.layout, TINY).state_dict()
    return seen, init, TrainConfig(steps=4, batch_size=16, warmup=1, log_every=1, ckpt_every=2, p_known=0.6, p_shared=0.0, seed=2)

def test_occluded_conditions_train_and_resume(data, tmp_path, monkeypatch):
    "`p_occlude` shows known modalities partly at −1 (never a noisy one); it changes the weights and resumes bit for bit."
    seen, init, cfg = _spy_inputs(monkeypatch, data)
    _run(data, cfg, tmp_path / 'plain', init); plain = seen[:]; seen.clear()
    occ = TrainConfig(**{**asdict(cfg), 'p_occlude': 0.9})
    _run(data, occ, tmp_path / 'occ', init); hidden = seen[:]; seen.clear()
    for (x0, s0), (x1, s1) in zip(plain, hidden):
        assert torch.equal(s0, s1)                                          # same σ and batches: only the known pixels differ
        changed = (x0 != x1).flatten(2).any(2)                              # [B, C]
        known = data.layout.channel_sigma(s0)[:, :, 0, 0] == 0
        assert not (changed & ~known).any() and changed.any() and (x1[x0 != x1] == -1).all()
    a, b = load_checkpoint(tmp_path / 'plain/checkpoints/last.pt'), load_checkpoint(tmp_path / 'occ/checkpoints/last.pt')
    assert any(not torch.equal(v, b['model'][k]) for k, v in a['model'].items())
    _run(data, occ, tmp_path / 'half', init, stop_after=2); _run(data, occ, tmp_path / 'half', init)
    _same(b['model'], load_checkpoint(tmp_path / 'half/checkpoints/last.pt')['model'], 'model')

def test_corrupted_conditions_train_and_resume(tmp_path, monkeypatch):
    "`p_corrupt` swaps known words (only) for misspelt partners of the same class; refused without a bank; resumes bit for bit."
    from mjdiff.data import PairedDataset, demo_sets, demo_layout, misspelt_words, to_float
    data = PairedDataset(demo_sets('train', 6), demo_layout(), corrupted={'word': misspelt_words(6, seed=0)})
    bank = data.corrupted['word'].images
    seen, init, cfg = _spy_inputs(monkeypatch, data)
    _run(data, cfg, tmp_path / 'plain', init); plain = seen[:]; seen.clear()
    bad = TrainConfig(**{**asdict(cfg), 'p_corrupt': 0.9})
    _run(data, bad, tmp_path / 'bad', init); shown = seen[:]; seen.clear()
    word = data.layout.slices['word']
    for (x0, s0), (x1, s1) in zip(plain, shown):
        assert torch.equal(s0, s1)
        changed = (x0 != x1).flatten(2).any(2)                              # [B, C]
        known = data.layout.channel_sigma(s0)[:, :, 0, 0] == 0
        assert not (changed & ~known).any() and changed[:, word].any() and not changed[:, :word.start].any() and not changed[:, word.stop:].any()
        for w in x1[changed[:, word.start], word]:                          # every swapped word is an item of the bank
            assert (to_float(bank) == w).flatten(1).all(1).any()
    a, b = load_checkpoint(tmp_path / 'plain/checkpoints/last.pt'), load_checkpoint(tmp_path / 'bad/checkpoints/last.pt')
    assert any(not torch.equal(v, b['model'][k]) for k, v in a['model'].items())
    _run(data, bad, tmp_path / 'half', init, stop_after=2); _run(data, bad, tmp_path / 'half', init)
    _same(b['model'], load_checkpoint(tmp_path / 'half/checkpoints/last.pt')['model'], 'model')
    with pytest.raises(ValueError, match='needs corrupted items'): _run(demo_dataset('train', n_per_class=6), bad, tmp_path / 'none', init)
