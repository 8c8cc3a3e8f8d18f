"""Data-parallel training with 2 CPU processes (gloo) under torchrun: disjoint data per rank, identical weights on
every rank, only rank 0 writes, and the result equals single-process training on the combined batch."""
import json, os, subprocess, sys
from dataclasses import asdict
from pathlib import Path
import numpy as np
import pytest, torch
from mjdiff.data import demo_dataset
from mjdiff.networks import UNetConfig
from mjdiff.training import train, load_checkpoint, read_log
from mjdiff.steps import batch_indices
from mjdiff.train_config import TrainConfig
from mjdiff.checkpoint import build_model
from mjdiff.cli import torchrun_command, train_distributed

TINY = dict(model_channels=16, channel_mult=(1, 2), num_blocks=1, attn_resolutions=(), dropout=0.0)
# DDP: 2 ranks × 2 micro-batches of 4; single process: one batch of 16 (so no_sync and the loss scaling are covered)
CFG = TrainConfig(steps=5, batch_size=16, lr=2e-3, warmup=1, log_every=1, ckpt_every=2, grad_accum=2, seed=3, device='cpu', precision='fp32')

RANK_SCRIPT = r'''
import builtins, json, sys, torch
import mjdiff.training as T
from mjdiff.train_config import TrainConfig
from mjdiff.checkpoint import build_model
from mjdiff.data import demo_dataset
from mjdiff.networks import UNetConfig
out, cfg, tiny = sys.argv[1], TrainConfig(**json.loads(sys.argv[2])), UNetConfig(**json.loads(sys.argv[3]))
rank, world = T.init_distributed('cpu')
writes, seen = [], []
real_atomic, real_open = T.atomic_save, builtins.open
def rec_atomic(obj, path, *a, **k): writes.append(str(path)); return real_atomic(obj, path, *a, **k)
def rec_open(file, mode='r', *a, **k):
    if any(c in mode for c in 'wax+'): writes.append(str(file))
    return real_open(file, mode, *a, **k)
T.atomic_save, T.open = rec_atomic, rec_open            # every file train() writes goes through one of these
class Recorder:
    "The dataset, recording which indices this rank loads."
    def __init__(self, d): self.d = d
    def __len__(self): return len(self.d)
    @property
    def epoch(self): return self.d.epoch
    def set_epoch(self, e): self.d.set_epoch(e)
    def get_batch(self, idx): seen.append([int(i) for i in idx]); return self.d.get_batch(idx)
data = demo_dataset('train', n_per_class=6)
torch.manual_seed(0); D = build_model(data.layout, tiny)
T.train(D, Recorder(data), cfg, out + '/run', progress=False)
torch.save({'seen': seen, 'writes': writes, 'model': D.state_dict(), 'world': world}, f'{out}/rank{rank}.pt')
T.teardown_distributed()
'''

@pytest.fixture(scope='module')
def ddp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('ddp')
    (out / 'rank_script.py').write_text(RANK_SCRIPT)
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', str(out / 'rank_script.py'),
           str(out), json.dumps(asdict(CFG)), json.dumps(TINY)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    ranks = [torch.load(out / f'rank{i}.pt', weights_only=False) for i in range(2)]
    # the reference: one process, the combined batch, no accumulation, same initial weights
    data = demo_dataset('train', n_per_class=6)
    torch.manual_seed(0); D = build_model(data.layout, UNetConfig(**TINY))
    init = {k: v.clone() for k, v in D.state_dict().items()}
    train(D, data, TrainConfig(**{**asdict(CFG), 'grad_accum': 1}), out / 'single', progress=False)
    # a control that differs only in its randomness (seed): how far apart two genuinely different runs are
    D.load_state_dict(init); train(D, data, TrainConfig(**{**asdict(CFG), 'grad_accum': 1, 'seed': 4}), out / 'control', progress=False)
    return out, ranks, data

def test_ranks_see_disjoint_data_that_makes_up_the_batch(ddp_run):
    out, ranks, data = ddp_run
    assert [r['world'] for r in ranks] == [2, 2]
    s0, s1 = ranks[0]['seen'], ranks[1]['seen']
    assert len(s0) == len(s1) == CFG.steps
    for step, (a, b) in enumerate(zip(s0, s1)):
        assert not set(a) & set(b), step
        assert sorted(a + b) == sorted(batch_indices(step, len(data), CFG.batch_size, CFG.seed)[1].tolist()), step

def test_weights_identical_across_ranks(ddp_run):
    out, ranks, _ = ddp_run
    for k, v in ranks[0]['model'].items(): assert torch.equal(v, ranks[1]['model'][k]), k
    ck = load_checkpoint(out / 'run/checkpoints/last.pt')
    for k, v in ranks[0]['model'].items(): assert torch.equal(v, ck['model'][k]), k

def test_only_rank0_writes(ddp_run):
    out, ranks, _ = ddp_run
    assert ranks[1]['writes'] == []
    names = {Path(p).name for p in ranks[0]['writes']}
    assert {'last.pt', 'config.json', 'train_log.csv'} <= names, names
    assert sorted(p.name for p in (out / 'run').iterdir()) == ['.lock', 'checkpoints', 'config.json', 'train_log.csv']   # .lock: rank 0 holds the run's lock

def _max_diff(a, b): return max((v - b[k]).abs().max().item() for k, v in a.items() if v.is_floating_point())

def test_matches_single_process_on_combined_batch(ddp_run):
    "Same weights up to float summation order (DDP all-reduce, micro-batches), far closer than a run with other noise."
    out, ranks, _ = ddp_run
    single, ddp = load_checkpoint(out / 'single/checkpoints/last.pt'), load_checkpoint(out / 'run/checkpoints/last.pt')
    control = load_checkpoint(out / 'control/checkpoints/last.pt')
    for part in ('model', 'ema'):
        for k, v in single[part].items():
            if v.is_floating_point(): torch.testing.assert_close(ddp[part][k], v, rtol=1e-4, atol=1e-4, msg=f'{part}.{k}')
    d_ddp, d_control = _max_diff(single['model'], ddp['model']), _max_diff(single['model'], control['model'])
    print(f'max |weight difference| after {CFG.steps} steps (lr {CFG.lr}): DDP vs single {d_ddp:.1e}; other seed vs single {d_control:.1e}')
    assert d_ddp * 50 < d_control
    la, lb = read_log(out / 'single/train_log.csv'), read_log(out / 'run/train_log.csv')
    np.testing.assert_allclose(lb['loss'], la['loss'], rtol=1e-4)            # the logged loss is the global batch mean
    np.testing.assert_allclose(lb['grad_norm'], la['grad_norm'], rtol=1e-3)

def test_train_distributed_runs_the_pipeline_config(tmp_path):
    "`train_distributed(RunConfig)` — what the pipeline's `nproc` parameter calls — returns `train`'s summary."
    from mjdiff.presets import resolve_config
    cfg = resolve_config('tiny', {'nproc': 2, 'steps': 3, 'device': 'cpu'})
    s = train_distributed(cfg, tmp_path / 'run')
    assert {'step', 'seconds', 'params', 'checkpoint', 'skipped_steps'} <= set(s) and s['step'] == 3
    assert load_checkpoint(s['checkpoint'])['step'] == 3
    assert torchrun_command(4, ['--run-dir', 'x'])[1:4] == ['-m', 'torch.distributed.run', '--standalone']

LEAVE_SCRIPT = r'''
import sys, time
from pathlib import Path
import mjdiff.training as T
out, wait = Path(sys.argv[1]), sys.argv[2] == 'wait'
rank, world = T.init_distributed('cpu')
if rank == 0: time.sleep(2); (out / 'rank0_done').write_text('x')
T.teardown_distributed(wait=wait)
if rank == 1: (out / 'rank1_saw').write_text(str((out / 'rank0_done').exists()))
'''

def test_ranks_leave_together(tmp_path):
    "`teardown_distributed` waits for every rank before the group goes: rank 1 leaves only after rank 0 has arrived."
    (tmp_path / 'leave.py').write_text(LEAVE_SCRIPT)
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', str(tmp_path / 'leave.py'),
           str(tmp_path), 'wait']
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert (tmp_path / 'rank1_saw').read_text() == 'True'

def test_teardown_after_an_error_does_not_wait(monkeypatch):
    "`wait=False` (this rank failed: another may never come to a barrier) leaves the group without waiting."
    import mjdiff.training as T
    calls = []
    monkeypatch.setattr(torch.distributed, 'is_initialized', lambda: True)
    monkeypatch.setattr(torch.distributed, 'barrier', lambda *a, **k: calls.append('barrier'))
    monkeypatch.setattr(torch.distributed, 'destroy_process_group', lambda *a, **k: calls.append('destroy'))
    T.teardown_distributed(wait=False)
    assert calls == ['destroy']
    calls.clear(); T.teardown_distributed()
    assert calls == ['barrier', 'destroy']
