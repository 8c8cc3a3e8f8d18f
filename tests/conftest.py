import os, sys, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

def run_cli(*args, timeout=900, **kw):
    "Run the `mjdiff` console script; returns the CompletedProcess."
    env = {**os.environ, 'MPLBACKEND': 'Agg'}
    return subprocess.run([str(BIN / 'mjdiff'), *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=kw.get('cwd', ROOT))

@pytest.fixture(scope='session')
def tiny_run(tmp_path_factory):
    "One end-to-end `mjdiff reproduce --preset tiny` run shared by the pipeline tests (with joint guidance, as the demo)."
    out = tmp_path_factory.mktemp('runs') / 'tiny'
    r = run_cli('reproduce', '--preset', 'tiny', '--out', str(out), '--param', 'joint_guidance=1')
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out, r
