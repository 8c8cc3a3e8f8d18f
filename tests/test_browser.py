"""The interactive demo in a real browser: JupyterLab on 127.0.0.1 and Debian's Chromium driven by Playwright open
`nbs/demo.ipynb` (a copy, so the repository's notebook is never saved over), run all cells, draw a condition, press
generate and wait for the answer image. The weights are an untrained tiny checkpoint (`write_test_demo`): the test is
about the wiring, not the pictures. A screenshot goes to `outputs/demo_screenshot.png`. With `MJDIFF_SCREENSHOT=PATH`
(`make demo-screenshot`) the demo runs on the shipped weights instead and the screenshot goes to PATH: the front
page's picture of the demo.

Needs /usr/bin/chromium (Debian's package) and the `playwright` package (`make browser-deps` installs both); skips
with a message otherwise. Never runs `playwright install`: no browser is downloaded."""
import json, os, secrets, shutil, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync']
SHIPPED = bool(os.environ.get('MJDIFF_SCREENSHOT'))          # the shipped demo weights, for the front page's screenshot
SCREENSHOT = Path(os.environ['MJDIFF_SCREENSHOT']).resolve() if SHIPPED else ROOT / 'outputs' / 'demo_screenshot.png'

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is missing: `make browser-deps` installs Debian's chromium (as root)", allow_module_level=True)
try:
    from playwright.sync_api import sync_playwright
except ImportError:
    pytest.skip("the playwright package is missing: `make browser-deps` installs it from PyPI", allow_module_level=True)

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def api(base: str, token: str, path: str, method: str = 'GET', timeout: float = 5.0):
    req = urllib.request.Request(f'{base}{path}', method=method, headers={'Authorization': f'token {token}'},
                                 data=b'' if method == 'POST' else None)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        body = r.read()
        return json.loads(body) if body else None

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "JupyterLab on 127.0.0.1 (free port, random token, temp root and settings) serving a copy of the demo notebook."
    from mjdiff.demo_app import write_test_demo
    from mjdiff.checkpoint import pretrained_path
    tmp = tmp_path_factory.mktemp('lab')
    root = tmp / 'root'; root.mkdir()
    shutil.copy(ROOT / 'nbs' / 'demo.ipynb', root / 'demo.ipynb')
    ckpt = pretrained_path('demo') if SHIPPED else write_test_demo(tmp / 'weights')
    cfg = tmp / 'jupyter_config'; (cfg / 'labconfig').mkdir(parents=True)
    (cfg / 'labconfig' / 'page_config.json').write_text(json.dumps(
        {'disabledExtensions': {'@jupyterlab/apputils-extension:announcements': True}}))
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, 'MJDIFF_DEMO_CHECKPOINT': str(ckpt), 'OMP_NUM_THREADS': '1', 'MPLBACKEND': 'Agg',
           'JUPYTER_CONFIG_DIR': str(cfg), 'JUPYTER_RUNTIME_DIR': str(tmp / 'runtime'), 'IPYTHONDIR': str(tmp / 'ipython'),
           'JUPYTERLAB_SETTINGS_DIR': str(tmp / 'lab_settings'), 'JUPYTERLAB_WORKSPACES_DIR': str(tmp / 'lab_workspaces')}
    log = open(tmp / 'jupyterlab.log', 'wb')
    proc = subprocess.Popen([str(BIN / 'jupyter-lab'), '--no-browser', '--ip=127.0.0.1', f'--port={port}', '--port-retries=0',
                             f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}',
                             '--LabApp.expose_app_in_browser=True', '--LabApp.extension_manager=readonly',
                             *(['--allow-root'] if os.geteuid() == 0 else []),
                             '--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate'],
                            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    base = f'http://127.0.0.1:{port}'
    def log_tail(): return (tmp / 'jupyterlab.log').read_text(errors='replace')[-3000:]
    try:
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None: pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log_tail()}")
            try: api(base, token, '/api/status'); break
            except OSError:
                if time.time() > deadline: pytest.fail(f"JupyterLab did not answer within 60 s:\n{log_tail()}")
                time.sleep(0.5)
        yield dict(base=base, token=token, root=root, log=log_tail)
    finally:
        try:                                                  # stop the kernels, then the server it started
            for k in api(base, token, '/api/kernels') or []: api(base, token, f"/api/kernels/{k['id']}", 'DELETE')
            api(base, token, '/api/shutdown', 'POST')
            proc.wait(timeout=15)
        except Exception:
            pass
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try: proc.wait(timeout=10)
            except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); proc.wait(timeout=10)
        log.close()

def test_demo_notebook_generates_in_the_browser(lab, tmp_path):
    t0 = time.time()
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(str(tmp_path / 'profile'), executable_path=CHROMIUM, headless=True,
                                                    args=CHROMIUM_FLAGS, viewport={'width': 1500, 'height': 1150})
        try:
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{lab['base']}/lab/tree/demo.ipynb?token={lab['token']}")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=90_000)
            # bounded: once in a while the session is never ready (a kernel dialog in the way), and an unbounded
            # evaluate would hang the suite; accept any dialog and run again once
            run_all = """async () => {
                const nb = window.jupyterapp.shell.currentWidget;
                const late = new Promise(r => setTimeout(() => r('late'), 90000));
                return await Promise.race([(async () => { await nb.sessionContext.ready;
                    return await window.jupyterapp.commands.execute('notebook:run-all-cells'); })(), late]);
            }"""
            ok, seen = page.evaluate(run_all), []
            if ok == 'late':                                  # what was in the way, kept for the failure message
                seen = page.locator('.jp-Dialog').all_inner_texts()
                page.screenshot(path=str(SCREENSHOT.with_name('demo_screenshot_late.png')))
                for b in page.locator('.jp-Dialog .jp-mod-accept').all(): b.click()
                ok = page.evaluate(run_all)
            assert ok != 'late', (f"the notebook did not start running within 90 s, twice (its kernel session never became "
                                  f"ready); dialogs: {seen or 'none'}; kernel status: "
                                  f"{page.evaluate('() => window.jupyterapp.shell.currentWidget.sessionContext.kernelDisplayStatus')}; "
                                  f"page: {SCREENSHOT.with_name('demo_screenshot_late.png')}\n{lab['log']()}")
            app = page.locator('.mjdiff-app')
            app.wait_for(state='visible')
            assert ok is not False, f"a cell failed:\n{page.locator('.jp-OutputArea').all_inner_texts()}"
            # the condition: draw a "1" (the thick brush paints 2×2 cells), which switches the source to the drawing
            cells = page.locator('.mjdiff-pad button')
            assert cells.count() == 16 * 16
            for i in range(2, 14, 2): cells.nth(i * 16 + 7).click()
            page.locator('.mjdiff-app .widget-toggle-button', has_text='guidance').click()
            page.locator('.mjdiff-generate').click()
            page.wait_for_function("""() => {
                const el = document.querySelector('.mjdiff-result');
                const img = el && (el.tagName === 'IMG' ? el : el.querySelector('img'));
                return img && img.complete && img.naturalWidth > 0 && img.offsetParent !== null;
            }""")
            # the image and the status line are two widget messages: on a loaded machine the image can show first
            page.wait_for_function("() => { const s = document.querySelector('.mjdiff-status'); return s && !s.innerText.includes('generating'); }")
            status = page.locator('.mjdiff-status').inner_text()
            assert 'samples given digit (guidance w=2' in status, status
            size = page.evaluate("() => { const el = document.querySelector('.mjdiff-result'); return [el.naturalWidth, el.naturalHeight]; }")
            assert size[0] > 300 and size[1] > 300, size            # rows = modalities, columns = condition + 4 samples
            outputs = ' '.join(page.locator('.jp-OutputArea').all_inner_texts())
            assert 'Traceback' not in outputs and 'Error' not in status, outputs[-2000:]
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            app.scroll_into_view_if_needed()
            app.screenshot(path=str(SCREENSHOT))
        finally:
            ctx.close()
    assert SCREENSHOT.stat().st_size > 10_000
    print(f"browser test body: {time.time() - t0:.1f} s; screenshot {SCREENSHOT}")
