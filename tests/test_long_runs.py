"""`tools/long_runs.sh`: the long runs' branches (cooldowns, late study arms) set up from a run's exact state, bad input refused;
`tools/cifar_checkpoint.sh` (`make cifar-checkpoint`): the shipped weights' stages chained, resumed, bad stages refused."""
import os, subprocess, sys
from pathlib import Path
import torch
from mjdiff.io import atomic_save

ROOT = Path(__file__).resolve().parent.parent

def long_runs(runs, *args, **env):
    "The script with DRY=1 (sets up, prints the training command, starts nothing) in this test's Python."
    e = {**os.environ, 'RUNS': str(runs), 'DRY': '1', 'PYTHON': sys.executable}
    for k in ('COOL', 'BRANCH', 'EXTRA', 'STEPS', 'FROM', 'AT'): e[k] = env.get(k, '')
    return subprocess.run(['bash', str(ROOT / 'tools' / 'long_runs.sh'), *args], capture_output=True, text=True, env=e, timeout=120)

def trunk_at(runs, step):
    ck = {'step': step, 'model': {'w': torch.arange(3.) + step}, 'config': {}}
    (runs / 'ours' / 'checkpoints').mkdir(parents=True, exist_ok=True); atomic_save(ck, runs / 'ours' / 'checkpoints' / 'last.pt')
    return ck

def test_branch_copies_state_and_changes_params(tmp_path):
    ck = trunk_at(tmp_path, 40)
    r = long_runs(tmp_path, 'ours', BRANCH='minsnr:min_snr=5,ema_decay=0.9995', EXTRA='10')
    assert r.returncode == 0, r.stderr
    assert 'ours_minsnr40: branched from ours at step 40' in r.stdout
    assert '--out %s/ours_minsnr40 --stages train --param steps=50 --param min_snr=5 --param ema_decay=0.9995' % tmp_path in r.stdout
    copied = torch.load(tmp_path / 'ours_minsnr40' / 'checkpoints' / 'last.pt', weights_only=True)
    assert copied['step'] == 40 and torch.equal(copied['model']['w'], ck['model']['w'])
    r = long_runs(tmp_path, 'ours', BRANCH='base', EXTRA='10')                    # no changes: the trunk's own continuation
    assert r.returncode == 0 and r.stdout.rstrip().endswith('--param steps=50'), r.stdout + r.stderr
    r = long_runs(tmp_path, 'ours', COOL='20')
    assert r.returncode == 0 and '--out %s/ours_cool40 --stages train --param steps=60 --param lr_decay=20' % tmp_path in r.stdout, r.stdout + r.stderr

def test_branch_resumed_after_the_trunk_moved_on(tmp_path):
    trunk_at(tmp_path, 40)
    assert long_runs(tmp_path, 'ours', BRANCH='ema:ema_decay=0.9995', EXTRA='10').returncode == 0
    trunk_at(tmp_path, 70)                                                         # the run itself went on
    r = long_runs(tmp_path, 'ours', BRANCH='ema:ema_decay=0.9995', EXTRA='20', AT='40')
    assert r.returncode == 0 and 'branched' not in r.stdout, r.stdout + r.stderr  # the arm's own state, not copied again
    assert '--out %s/ours_ema40 --stages train --param steps=60 --param ema_decay=0.9995' % tmp_path in r.stdout
    assert torch.load(tmp_path / 'ours_ema40' / 'checkpoints' / 'last.pt', weights_only=True)['step'] == 40
    r = long_runs(tmp_path, 'ours', BRANCH='ema:ema_decay=0.9995', EXTRA='20')     # without AT: a new branch at 70
    assert r.returncode == 0 and 'ours_ema70: branched from ours at step 70' in r.stdout

def test_bad_branches_refused(tmp_path):
    for env, msg in ((dict(BRANCH='Bad', EXTRA='5'), 'BRANCH must be name'), (dict(BRANCH='b2', EXTRA='5'), 'ending in a letter'),
                     (dict(BRANCH='x:foo', EXTRA='5'), "expected k=v, got 'foo'"), (dict(BRANCH='x:steps=9', EXTRA='5'), 'steps are set by EXTRA'),
                     (dict(BRANCH='x', EXTRA='ten'), "EXTRA must be a number of steps, not 'ten'"), (dict(BRANCH='x', COOL='5'), 'not both'),
                     (dict(BRANCH='x', EXTRA='5', STEPS='99'), 'STEPS is for the run itself'), (dict(COOL='5', EXTRA='5'), 'EXTRA is for BRANCH'),
                     (dict(COOL='0'), 'COOL must be a number'), (dict(BRANCH='x', EXTRA='5'), 'ours has no checkpoint'),
                     (dict(BRANCH='x', EXTRA='5', AT='40'), 'no branch'), (dict(BRANCH='x', EXTRA='5', AT='4o'), 'AT must be')):
        r = long_runs(tmp_path, 'ours', **env)
        assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, (env, r.stderr)
    assert not any(tmp_path.iterdir())                                         # nothing set up for a refused branch
    r = long_runs(tmp_path, 'theirs')
    assert r.returncode == 2 and 'unknown run theirs' in r.stderr

def cifar_checkpoint(*stages, **env):
    "`tools/cifar_checkpoint.sh` with DRY=1: the commands it would run, one per line."
    e = {**os.environ, 'DRY': '1', 'MJDIFF': 'mj', 'WEIGHTS': 'w.pt', 'PARAMS': '', **env}     # not the caller's PARAMS
    return subprocess.run(['bash', str(ROOT / 'tools' / 'cifar_checkpoint.sh'), *stages], capture_output=True, text=True,
                          env=e, timeout=60)

def test_cifar_checkpoint_chains_stages(tmp_path):
    run = tmp_path / 'c'
    r = cifar_checkpoint(str(run), 'steps=10,lr_decay=2', 'steps=12,lr_decay=2', 'steps=13,lr_decay=1', PARAMS='align_stage=mid lr_decay=9')
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    train = lambda out, *kv: f"mj reproduce --preset cifar10_mnist_pretrain --out {out} --stages train " + ' '.join(f'--param {p}' for p in kv)
    assert lines[0] == train(run, 'align_stage=mid', 'lr_decay=9', 'steps=10', 'lr_decay=2')      # the stage's own last
    assert lines[1:5] == [f'mkdir -p {run}_more/checkpoints', f'mj export-checkpoint {run}/checkpoints/last.pt {run}_more/from.pt',
                          f'mv {run}_more/from.pt {run}_more/checkpoints/last.pt',
                          train(f'{run}_more', 'align_stage=mid', 'lr_decay=9', 'steps=12', 'lr_decay=2')]
    assert lines[5:9] == [f'mkdir -p {run}_more2/checkpoints', f'mj export-checkpoint {run}_more/checkpoints/last.pt {run}_more2/from.pt',
                          f'mv {run}_more2/from.pt {run}_more2/checkpoints/last.pt',
                          train(f'{run}_more2', 'align_stage=mid', 'lr_decay=9', 'steps=13', 'lr_decay=1')]
    assert lines[9:] == [f'mj export-checkpoint {run}_more2/checkpoints/last.pt w.pt'] and not any(tmp_path.iterdir())
    (tmp_path / 'c_more' / 'checkpoints').mkdir(parents=True); (tmp_path / 'c_more' / 'checkpoints' / 'last.pt').write_bytes(b'x')
    r = cifar_checkpoint(str(run), 'steps=10', 'steps=12')                 # a stage with a checkpoint resumes it
    assert r.returncode == 0 and r.stdout.splitlines() == [train(run, 'steps=10'), train(f'{run}_more', 'steps=12'),
                                                           f'mj export-checkpoint {run}_more/checkpoints/last.pt w.pt'], r.stdout

def test_cifar_checkpoint_refuses_bad_stages(tmp_path):
    for stages, msg in (((), 'usage'), (('lr=1',), 'names no steps'), (('steps=3,x',), "not 'steps=3,x'"),
                        (('steps=3', 'lr_decay=2'), "'lr_decay=2' names no steps"), (('steps=3,lr=1 x',), 'has no spaces')):
        r = cifar_checkpoint(str(tmp_path / 'c'), *stages)
        assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, (stages, r.stderr)
    assert 'tools/cifar_checkpoint.sh outputs/cifar10_mnist_pretrain $(CIFAR_STAGES)' in (ROOT / 'Makefile').read_text()
