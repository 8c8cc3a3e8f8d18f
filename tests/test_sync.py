"The library is the export of the notebooks: `nbdev_export` on a copy must reproduce `mjdiff/` exactly."
import shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def test_nbdev_export_is_a_noop(tmp_path):
    for name in ['settings.ini', 'setup.py']: shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / 'nbs', tmp_path / 'nbs', ignore=shutil.ignore_patterns('.ipynb_checkpoints', '_proc'))
    (tmp_path / 'mjdiff').mkdir(); shutil.copy(ROOT / 'mjdiff' / '__init__.py', tmp_path / 'mjdiff' / '__init__.py')
    r = subprocess.run([str(Path(sys.executable).parent / 'nbdev_export')], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    made = {p.relative_to(tmp_path / 'mjdiff') for p in (tmp_path / 'mjdiff').rglob('*.py')}
    have = {p.relative_to(ROOT / 'mjdiff') for p in (ROOT / 'mjdiff').rglob('*.py')}
    assert made == have, f"modules differ: only from notebooks {sorted(made - have)}, only in mjdiff/ {sorted(have - made)}"
    stale = [str(p) for p in sorted(made) if (tmp_path / 'mjdiff' / p).read_text() != (ROOT / 'mjdiff' / p).read_text()]
    assert not stale, f"mjdiff/ is out of sync with nbs/ for {stale}: run `make sync` (nbdev_export) and commit"

def test_imports_go_one_way_down():
    """Every library module imports only the layers below it (read from the source, lazy imports included); the trainer
    loads without the run machinery, and a checkpoint (the README's inference example) without the trainer."""
    import ast
    layers = {'io': 0, 'layout': 1, 'data': 2, 'sources': 3, 'diffusion': 4, 'networks': 5,
              'sampling': 6, 'checkpoint': 6, 'alignment': 6, 'train_config': 6, 'steps': 6,
              'conditioning': 7, 'training': 7, 'metrics': 7, 'classifiers': 7, 'judge': 7, 'latent': 8, 'evaluation': 9,
              'config': 10, 'presets': 11, 'stages': 12, 'report': 13, 'demo_app': 13, 'pipeline': 14, 'studies': 15, 'cli': 16}
    assert set(layers) == {p.stem for p in (ROOT / 'mjdiff').glob('*.py')} - {'__init__', '_modidx'}
    for mod, level in layers.items():
        tree = ast.parse((ROOT / 'mjdiff' / f'{mod}.py').read_text())
        used = {n.module.split('.')[-1] if n.level else n.module.split('.', 1)[-1].split('.')[0]
                for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and (n.level or n.module.startswith('mjdiff.'))}
        used |= {a.name.split('.')[1] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names if a.name.startswith('mjdiff.')}
        above = sorted(m for m in used if m in layers and layers[m] > level)
        assert not above, f"mjdiff.{mod} imports the layers above it: {above}"
    for mod, absent in (('training', ('config', 'presets', 'stages', 'pipeline', 'cli')), ('checkpoint', ('training', 'steps'))):
        r = subprocess.run([sys.executable, '-c', f"import sys, mjdiff.{mod}; print(sorted(m for m in sys.modules if m.startswith('mjdiff.')))"],
                           capture_output=True, text=True, cwd=ROOT)
        assert r.returncode == 0 and f"'mjdiff.{mod}'" in r.stdout, r.stdout + r.stderr
        assert not [m for m in absent if f"'mjdiff.{m}'" in r.stdout], f"importing mjdiff.{mod} loads {r.stdout}"

def test_module_docstrings_are_whole_sentences():
    "Each module's docstring (the first line of its notebook's summary) is a complete sentence, not a line cut short."
    import ast
    for p in sorted((ROOT / 'mjdiff').glob('*.py')):
        if p.stem in ('__init__', '_modidx'): continue
        doc = ast.get_docstring(ast.parse(p.read_text()))
        assert doc and doc.rstrip().endswith(('.', '.)', '!')), f"mjdiff/{p.name}: docstring {doc!r} is not a whole sentence"

def test_one_definition_per_exported_cell():
    "Each exported notebook cell holds at most one top-level function or class, so the docs show each with its own code."
    import ast, json, re
    crowded = []
    for nb in sorted((ROOT / 'nbs').glob('*.ipynb')):
        for i, c in enumerate(json.loads(nb.read_text())['cells']):
            src = ''.join(c['source'])
            if c['cell_type'] != 'code' or not any(re.match(r'#\|\s*exports?\b', l) for l in src.splitlines()[:3]): continue
            n = sum(isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for s in ast.parse(src).body)
            if n > 1: crowded.append(f"{nb.name} cell {i} ({c.get('id')}): {n} definitions")
    assert not crowded, "split these cells, one definition each: " + '; '.join(crowded)

def exercised_nearby(nb: Path, window: int = 3) -> tuple[list[str], list[str]]:
    """The exported definitions of notebook `nb` (top-level functions and classes of its `#| export`/`#| exports` cells,
    private `_names` included), split into those that one of the next `window` code cells that are not exports uses
    (the name appears in its source) and those that none does."""
    import ast, json, re
    exported = lambda src: any(re.match(r'#\|\s*exports?\b', l) for l in src.splitlines()[:3])
    cells = [''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code']
    used, unused = [], []
    for i, src in enumerate(cells):
        if not exported(src): continue
        after = [c for c in cells[i + 1:] if not exported(c)][:window]
        for s in ast.parse(src).body:
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                (used if any(re.search(rf'\b{re.escape(s.name)}\b', c) for c in after) else unused).append(s.name)
    return used, unused

def test_exported_definitions_are_exercised_nearby():
    """fastcore's rhythm: an exported definition is followed by its example or test. At least 60 % of the exported
    definitions of the library notebooks (`nbs/[0-9]*.ipynb`) are used by one of the next three code cells that are
    not exports (fastcore's numbered notebooks, counted the same way: 59 %)."""
    counts = {nb.name: exercised_nearby(nb) for nb in sorted((ROOT / 'nbs').glob('[0-9]*.ipynb'))}
    used, total = sum(len(u) for u, _ in counts.values()), sum(len(u) + len(n) for u, n in counts.values())
    per_nb = '; '.join(f"{name} {len(u)}/{len(u) + len(n)} (not: {' '.join(n)})" for name, (u, n) in counts.items() if n)
    assert used >= 0.60 * total, f"{used} of {total} exported definitions are exercised within three cells: {per_nb}"
