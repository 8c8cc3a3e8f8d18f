import os, sys, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

def run_cli(*args, timeout=900, **kw):
    "Run the `mjdiff` console script; returns the CompletedProcess."
    env = {**os.environ, 'MPLBACKEND': 'Agg'}
    return subprocess.run([str(BIN / 'mjdiff'), *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=kw.get('cwd', ROOT))

def built_once(tmp_path_factory, name: str, build) -> Path:
    """`build(folder)` run once for the whole session, however many pytest-xdist workers there are: the first worker to
    ask builds it under a file lock in the session's shared temp folder, the others wait and reuse it."""
    import fcntl
    root = tmp_path_factory.getbasetemp()
    if os.environ.get('PYTEST_XDIST_WORKER'): root = root.parent              # the workers' basetemps share one parent
    folder, done = root / name, root / f'{name}.done'
    with open(root / f'{name}.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            build(folder); done.touch()
    return folder

@pytest.fixture(scope='session')
def tiny_run(tmp_path_factory):
    """One end-to-end `mjdiff reproduce --preset tiny` run shared by the pipeline tests (with joint guidance, as the demo):
    trained once per session, and each worker gets its own copy (tests write into it)."""
    import shutil
    def build(folder):
        r = run_cli('reproduce', '--preset', 'tiny', '--out', str(folder / 'tiny'), '--param', 'joint_guidance=1')
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        (folder / 'stdout.txt').write_text(r.stdout); (folder / 'stderr.txt').write_text(r.stderr)
    built = built_once(tmp_path_factory, 'tiny-run', build)
    out = tmp_path_factory.mktemp('runs') / 'tiny'
    shutil.copytree(built / 'tiny', out)
    r = subprocess.CompletedProcess(['mjdiff', 'reproduce', '--preset', 'tiny'], 0, (built / 'stdout.txt').read_text(),
                                    (built / 'stderr.txt').read_text())
    return out, r

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
