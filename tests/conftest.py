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

@pytest.fixture(scope='session')
def decode_cache(tmp_path_factory):
    "One temporary cache of decoded CIFAR-10 for every real-data test of the session (decoded once, memory-mapped after)."
    return tmp_path_factory.mktemp('decode-cache')

def run_main(*args, cwd=None):
    "`mjdiff ARGS` in this process (no interpreter start-up: for commands that fail or finish before any stage runs)."
    import contextlib, io
    from mjdiff.cli import main
    out, err, old = io.StringIO(), io.StringIO(), os.getcwd()
    try:
        if cwd: os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): rc = main(list(map(str, args)))
    finally: os.chdir(old)
    return subprocess.CompletedProcess(['mjdiff', *args], rc, out.getvalue(), err.getvalue())
