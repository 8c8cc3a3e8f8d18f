"""The documentation site builds from the notebooks: every notebook gets a page and no page shows a Python traceback.

`tools/build_docs.py` runs in a copy of the repository (so `nbdev_docs` cannot rewrite README.md or _docs/ here):
`nbdev_docs` when Quarto is installed, else the preview (nbdev's notebook processing rendered by nbconvert), which
runs the same processing — front matter, `show_doc` of every exported symbol, the cells nbdev executes to document a
library notebook — so a notebook that cannot be documented fails either way. Quarto itself is checked only where it
is installed; `test_site_is_built_with_quarto` skips, with the reason, where it is not."""
import os, re, shutil, subprocess, sys
from pathlib import Path
import pytest, yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
import build_docs
from nbdev.doclinks import _nbpath2html

NO_QUARTO = ("Quarto is not installed, so the preview build was checked instead: `make docs` installs the quarto-cli "
             "package when it can, but its PyPI release is a source package that downloads Quarto from GitHub while "
             "it builds, which fails where only package registries are reachable")

def notebooks() -> list[Path]:
    "Every notebook of the docs, relative to nbs/."
    nbs = ROOT / 'nbs'
    return [p.relative_to(nbs) for p in sorted(nbs.rglob('*.ipynb')) if not any(q.startswith(('.', '_')) for q in p.relative_to(nbs).parts)]

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "`(site folder, quarto or None)` of a build in a copy of the repository."
    tmp = tmp_path_factory.mktemp('docs')
    for f in ('settings.ini', 'setup.py', 'README.md'): shutil.copy(ROOT / f, tmp / f)
    skip = shutil.ignore_patterns('_proc', '.ipynb_checkpoints', '__pycache__')
    for d in ('nbs', 'mjdiff', 'tools'): shutil.copytree(ROOT / d, tmp / d, ignore=skip)
    quarto = build_docs.find_quarto()
    r = subprocess.run([sys.executable, 'tools/build_docs.py', *([] if quarto else ['--preview'])], cwd=tmp,
                       capture_output=True, text=True, timeout=1200, env={**os.environ, 'OMP_NUM_THREADS': '1', 'MPLBACKEND': 'Agg'})
    if r.returncode:
        why = [l for l in r.stdout.splitlines() if l.startswith(('FAILED', 'build_docs:'))]
        pytest.fail('the docs build failed:\n' + '\n'.join(why or (r.stdout + r.stderr).splitlines()[-30:]), pytrace=False)
    return tmp / '_docs', quarto

def test_every_notebook_has_a_page(site):
    docs, _ = site
    missing = [str(nb) for nb in notebooks() if not (docs / _nbpath2html(nb)).is_file()]
    assert not missing, f"no page for {missing} in {sorted(str(p.relative_to(docs)) for p in docs.rglob('*.html'))[:40]}"
    assert len(notebooks()) >= 16

def test_no_page_shows_a_traceback(site):
    docs, _ = site
    bad = [str(p.relative_to(docs)) for p in sorted(docs.rglob('*.html'))
           if 'Traceback (most recent call last)' in p.read_text(encoding='utf-8', errors='replace')]
    assert not bad, f"pages with a Python traceback: {bad}"

def test_library_pages_document_their_exports(site):
    docs, _ = site
    page = (docs / 'demo_app.html').read_text(encoding='utf-8')
    for name in ('load_demo', 'grid_to_image', 'generate_from', 'render_predictions'): assert f'id="{name}"' in page or f'#{name}' in page, name

def test_sidebar_lists_every_notebook():
    "settings.ini has custom_sidebar = True: nbs/sidebar.yml is written by hand, so a new notebook must be added to it."
    def entries(items):
        for it in items:
            if isinstance(it, dict): yield from entries(it.get('contents', []))
            else: yield it
    listed = set(entries(yaml.safe_load((ROOT / 'nbs' / 'sidebar.yml').read_text())['website']['sidebar']['contents']))
    missing = [str(nb) for nb in notebooks() if nb.as_posix() not in listed]
    assert not missing, f"add {missing} to nbs/sidebar.yml"

def test_site_is_built_with_quarto(site):
    if site[1] is None: pytest.skip(NO_QUARTO)
    assert (site[0] / 'search.json').is_file()

def test_readme_is_the_rendered_front_page():
    "README.md is nbs/index.ipynb rendered by tools/build_readme.py (`make sync`); no placeholder is left on any page."
    import build_readme
    assert (ROOT / 'README.md').read_text(encoding='utf-8') == build_readme.render(), "README.md differs from nbs/index.ipynb: run `make sync`"
    for p in [ROOT / 'README.md', *sorted((ROOT / 'nbs').glob('*.ipynb'))]:
        text = p.read_text(encoding='utf-8')
        assert not re.search(r'PLACEHOLDER|STUDY_TABLE|TODO', text), f"{p.name} holds a placeholder"
    assert len((ROOT / 'README.md').read_text().splitlines()) <= 200

def test_readme_figures_and_links_exist():
    text = (ROOT / 'README.md').read_text(encoding='utf-8')
    targets = re.findall(r'\]\((nbs/[^)\s#]+)\)', text)
    assert targets and all((ROOT / t).exists() for t in targets), [t for t in targets if not (ROOT / t).exists()]
