#!/usr/bin/env python3
"""Build the documentation site (`doc_path` of settings.ini, `_docs/`) from the notebooks in `nbs/`.

Run from the repository root, or from a copy of it (`settings.ini`, `nbs/`, `mjdiff/`), with the project's venv:

- with Quarto (on PATH, or inside an installed `quarto_cli` package): `nbdev_docs`, the real site. nbdev then also
  regenerates README.md from nbs/index.ipynb when the notebook is newer than README.md.
- without Quarto: a preview of the same pages. nbdev's own notebook processing (front matter, `show_doc` of every
  exported symbol, hidden cells; `nbdev.serve.proc_nbs`, which writes `_proc/`) rendered to HTML by nbconvert, one
  page per notebook under the page name Quarto would use. Quarto-only markup (`:::` blocks) is dropped, links to
  notebooks point to their pages. README.md is left alone.

Prints which one it built. When nbdev's processing of a notebook fails (nbdev executes the imports, exported cells and
`show_doc` cells of library notebooks to document them), every notebook is then processed on its own and each
failing one is listed with the cell and the error, and the exit status is 1.

Usage: python tools/build_docs.py [--preview] [--n-workers N]
"""
from __future__ import annotations
import argparse, os, re, shutil, subprocess, sys
from pathlib import Path

BIN = Path(sys.executable).parent
PREVIEW_NOTE = ("*Preview built without Quarto by `tools/build_docs.py` (nbdev's notebook processing, rendered by "
                "nbconvert); with Quarto installed, `make docs` builds the real site.*")

def find_quarto() -> str | None:
    "The `quarto` executable: on PATH (the venv's bin first), or inside an installed `quarto_cli` package."
    q = shutil.which('quarto', path=os.pathsep.join([str(BIN), os.environ.get('PATH', '')]))
    if q: return q
    try: import quarto_cli
    except ImportError: return None
    hits = sorted(p for p in Path(quarto_cli.__file__).parent.glob('**/bin/quarto') if os.access(p, os.X_OK))
    return str(hits[0]) if hits else None

def build_quarto(quarto: str, n_workers: int) -> Path:
    "`nbdev_docs` with `quarto` on PATH; returns the site folder."
    from nbdev.config import get_config
    env = {**os.environ, 'PATH': os.pathsep.join([str(Path(quarto).parent), str(BIN), os.environ.get('PATH', '')])}
    subprocess.run([str(BIN / 'nbdev_docs'), '--n_workers', str(n_workers)], check=True, env=env)
    return Path(get_config().doc_path)

def _front_matter(nb) -> dict:
    "Pop the YAML front matter raw cells nbdev's processing put first; returns them merged."
    import yaml
    fm = {}
    while nb.cells and nb.cells[0].cell_type == 'raw' and nb.cells[0].source.lstrip().startswith('---'):
        m = re.match(r'^\s*---\s*\n(.*?)\n---\s*$', nb.cells.pop(0).source, flags=re.DOTALL)
        if m: fm.update(yaml.safe_load(m.group(1)) or {})
    return fm

def build_preview(n_workers: int) -> Path:
    "nbdev's processing of every notebook, rendered by nbconvert into `doc_path`; returns the site folder."
    import nbformat
    from nbconvert import HTMLExporter
    from nbdev.config import get_config
    from nbdev.doclinks import _nbpath2html
    from nbdev.quarto import refresh_quarto_yml
    from nbdev.serve import proc_nbs
    cfg = get_config()
    refresh_quarto_yml()
    cache = Path(proc_nbs(cfg.nbs_path, n_workers=n_workers))
    out = Path(cfg.doc_path); shutil.rmtree(out, ignore_errors=True); out.mkdir(parents=True)
    # The lab template runs bleach over every highlighted code cell whatever `sanitize_html` says (about half the
    # export's time); the notebooks are our own, as they are to Quarto, so the text passes as it is.
    trusted = lambda html: html.decode() if isinstance(html, bytes) else str(html)
    exporter = HTMLExporter(template_name='lab', exclude_input_prompt=True, exclude_output_prompt=True,
                            filters={'clean_html': trusted})
    n = 0
    for src in sorted(cache.rglob('*.ipynb')):
        rel = src.relative_to(cache)
        if any(part.startswith(('.', '_')) for part in rel.parts): continue
        nb = nbformat.read(src, as_version=4)
        fm = _front_matter(nb)
        for c in nb.cells:
            if c.cell_type == 'markdown': c.source = '\n'.join(l for l in c.source.splitlines() if not l.lstrip().startswith(':::'))
            if c.cell_type == 'code' and re.search(r'^#\|\s*echo:\s*false', c.source, flags=re.MULTILINE):
                c.metadata.setdefault('transient', {})['remove_source'] = True          # Quarto hides these inputs too
        titled = any(c.cell_type == 'markdown' and c.source.lstrip().startswith('# ') for c in nb.cells[:3])
        head = '' if titled else f"# {fm.get('title', rel.stem)}" + (f"\n\n> {fm['description']}" if fm.get('description') else '') + '\n\n'
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(head + PREVIEW_NOTE))
        body, _ = exporter.from_notebook_node(nb, resources={'metadata': {'name': str(fm.get('title', rel.stem))}})
        def page(m):
            target = os.path.normpath(rel.parent / (m.group(1) + '.ipynb'))
            return 'href="' + os.path.relpath(_nbpath2html(Path(target)), rel.parent)
        body = re.sub(r'href="([^"#:?]+)\.ipynb', page, body)
        body = re.sub(r'\{target="_blank"[^}]*\}', '', body)                          # pandoc link attributes of show_doc
        dest = out / _nbpath2html(rel); dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(body, encoding='utf-8'); n += 1
    print(f"build_docs: preview of {n} pages in {out}/ (no Quarto)")
    return out

def check(paths: list[str]) -> int:
    "Run nbdev's docs processing on each notebook in turn (in this process); print one line for each that fails."
    from execnb.nbio import read_nb
    from nbdev.processors import FilterDefaults
    here, failed = Path.cwd(), 0
    os.environ['IN_TEST'] = '1'
    for path in paths:
        p = (here / path).resolve(); nb = read_nb(p); nb.path_ = str(p)
        os.chdir(p.parent)
        try: FilterDefaults()(nb)
        except Exception as e:
            cause = e.__cause__ if e.__cause__ is not None else e
            lines = str(e).splitlines()
            where = lines[0].replace('Error in notebook: ', '').rstrip(' :') if lines else ''
            code = ' | '.join(l.strip() for l in lines[1:] if l.strip() and not l.startswith('#|'))[:240]
            print(f"FAILED {path}: {where}: {code} -> {type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}", flush=True)
            failed += 1
        finally: os.chdir(here)
    return 1 if failed else 0

def diagnose() -> list[str]:
    "Process every notebook on its own, in one fresh process; the failure lines."
    from nbdev.config import get_config
    nbs = Path(get_config().nbs_path)
    paths = [str(p) for p in sorted(nbs.rglob('*.ipynb')) if not any(q.startswith(('.', '_')) for q in p.relative_to(nbs).parts)]
    r = subprocess.run([sys.executable, __file__, '--check', *paths], capture_output=True, text=True)
    out = [l for l in r.stdout.splitlines() if l.startswith('FAILED ')]
    if r.returncode and not out: out.append(f"FAILED (checker crashed): {r.stderr.strip().splitlines()[-1:]}")
    return out

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--preview', action='store_true', help='build the nbconvert preview even when Quarto is installed')
    ap.add_argument('--n-workers', type=int, default=1, help='notebooks processed in parallel (the CPU is shared: 1)')
    ap.add_argument('--check', nargs='+', metavar='NOTEBOOK', help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.check: return check(a.check)
    quarto = None if a.preview else find_quarto()
    try:
        if quarto:
            out = build_quarto(quarto, a.n_workers); print(f"build_docs: Quarto site in {out}/ ({quarto})")
        else:
            if not a.preview: print("build_docs: Quarto is not installed (`make docs` tries the quarto-cli package); building the preview")
            build_preview(a.n_workers)
    except (Exception, SystemExit) as e:
        if isinstance(e, SystemExit) and not e.code: raise
        print(f"build_docs: the build failed ({type(e).__name__}); processing every notebook on its own to find out where ...", flush=True)
        failures = diagnose()
        print('\n'.join(['build_docs: notebooks nbdev cannot document:'] + failures) if failures else 'build_docs: every notebook processes on its own; see the error above')
        return 1
    return 0

if __name__ == '__main__':
    sys.exit(main())
