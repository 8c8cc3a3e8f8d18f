"`tools/long_runs.sh`: the long runs' branches (cooldowns, late study arms) set up from a run's exact state, bad input refused."
import os, subprocess, sys
from pathlib import Path
import torch
from mjdiff.io import atomic_save

ROOT = Path(__file__).resolve().parent.parent

def long_runs(runs, *args, **env):
    e = {**os.environ, 'RUNS': str(runs), 'DRY': '1', **env}
    for k in ('COOL', 'BRANCH', 'EXTRA', 'STEPS', 'FROM'): e.setdefault(k, ''); e[k] = env.get(k, '')
    return subprocess.run(['bash', str(ROOT / 'tools' / 'long_runs.sh'), *args], capture_output=True, text=True, env=e, timeout=120)

def test_branch_copies_state_and_changes_params(tmp_path):
    ck = {'step': 40, 'model': {'w': torch.arange(3.)}, 'config': {}}
    (tmp_path / 'ours' / 'checkpoints').mkdir(parents=True); atomic_save(ck, tmp_path / 'ours' / 'checkpoints' / 'last.pt')
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

def test_bad_branches_refused(tmp_path):
    for env, msg in ((dict(BRANCH='Bad', EXTRA='5'), 'BRANCH must be name'), (dict(BRANCH='x:foo', EXTRA='5'), "expected k=v, got 'foo'"),
                     (dict(BRANCH='x', EXTRA='ten'), "EXTRA must be a number of steps, not 'ten'"), (dict(BRANCH='x', COOL='5'), 'not both'),
                     (dict(COOL='0'), 'COOL must be a number'), (dict(BRANCH='x', EXTRA='5'), 'ours has no checkpoint')):
        r = long_runs(tmp_path, 'ours', **env)
        assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, (env, r.stderr)
    assert not any(tmp_path.iterdir())                                         # nothing set up for a refused branch
    r = long_runs(tmp_path, 'theirs')
    assert r.returncode == 2 and 'unknown run theirs' in r.stderr
