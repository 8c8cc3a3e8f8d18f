"""Results are data: every number README.md and the results page show is in `nbs/results/`, and README's tables are
rendered from it.

`nbs/results/` holds one JSON file per measured run or benchmark table, each with its `command`, `machine`, `date`
and `source` (where the numbers come from: a run's own output, or where they were typed when the run's files are not
kept). Numbers are written as they were measured, to the digits printed (`0.930`, not `0.93`); readers load them with
`json.loads(text, parse_float=Decimal)` to keep those digits. `benchmarks/cifar_coherence_points.csv` (the input of
`benchmarks/coherence_trend.py`) is data too.

Which numbers are checked — the convention:
- every decimal number (`0.417`, `52.8`), every number with thousands separators (`3,171`, `2,096,000`) and every
  percentage (`42 %`, `+12.4 %`) in README.md and in the markdown and code-cell sources of `nbs/results.ipynb`;
- it passes when some number of the data equals it at the shown precision (|data − shown| ≤ half a unit of the last
  shown digit), signs ignored; a percentage also matches a fraction (`42 %` ↔ `0.42`);
- not checked: plain integers without a thousands separator (counts, steps, seeds, sizes, section numbers, years);
  code (fenced blocks and `inline code`: commands and parameter settings), math (`$…$`), link targets, HTML comments;
  and a number written right after `=`, `≤`, `≥`, `<` or `>` (a setting or a threshold: `σ = 0.5`, `Python ≥ 3.10`).
So a result typed in prose must be one of the data's numbers, and code cells read numbers rather than type them.
"""
import csv, json, re, shutil, sys
from decimal import Decimal
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / 'nbs' / 'results'
EXTRA_DATA = [ROOT / 'benchmarks' / 'cifar_coherence_points.csv']
sys.path.insert(0, str(ROOT / 'tools'))
import build_readme

def _leaves(x):
    if isinstance(x, dict):
        for v in x.values(): yield from _leaves(v)
    elif isinstance(x, list):
        for v in x: yield from _leaves(v)
    elif isinstance(x, (Decimal, int)) and not isinstance(x, bool): yield Decimal(x)

def data_numbers(folder: Path = DATA) -> set:
    "Every number in the data: JSON numbers of `folder`'s files and the numeric cells of the CSV data."
    nums = set()
    for p in sorted(folder.glob('*.json')):
        nums.update(_leaves(json.loads(p.read_text(encoding='utf-8'), parse_float=Decimal, parse_int=Decimal)))
    for p in EXTRA_DATA:
        for row in csv.DictReader(p.open(encoding='utf-8')):
            for v in row.values():
                try: nums.add(Decimal(v))
                except Exception: pass
    return {abs(n) for n in nums}

NUMBER = re.compile(r'(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+)(?![\w])(\s?%)?')

def prose(text: str) -> str:
    "`text` without what is not checked: code, math, HTML comments, link targets."
    text = re.sub(r'```.*?```', ' ', text, flags=re.S)
    text = re.sub(r'<!--.*?-->', ' ', text, flags=re.S)
    text = re.sub(r'\$\$.*?\$\$|\$[^$\n]+\$', ' ', text)
    text = re.sub(r'`[^`\n]*`', ' ', text)
    text = re.sub(r'\]\([^)]*\)', ']', text)
    return re.sub(r'https?://\S+', ' ', text)

def shown_numbers(text: str) -> list:
    "`(token, Decimal value, decimals, is_percent)` of each checked number of `text` (see the module's docstring)."
    out, text = [], prose(text)
    for m in NUMBER.finditer(text):
        tok, pct = m.group(1), bool(m.group(2))
        if not (pct or ',' in tok or '.' in tok): continue
        before = text[:m.start()].rstrip()
        if before.endswith(('=', '≤', '≥', '<', '>')): continue
        digits = tok.replace(',', '')
        out.append((tok + ('%' if pct else ''), Decimal(digits), len(digits.split('.')[1]) if '.' in digits else 0, pct))
    return out

def in_data(value: Decimal, decimals: int, pct: bool, nums: set) -> bool:
    half = Decimal(5) * Decimal(10) ** -(decimals + 1)
    candidates = [value] + ([value / 100] if pct else [])
    hws = [half] + ([half / 100] if pct else [])
    return any(abs(n - c) <= h for c, h in zip(candidates, hws) for n in nums)

def missing(text: str, nums: set) -> list:
    "The shown numbers of `text` that are not in the data."
    return sorted({tok for tok, v, d, p in shown_numbers(text) if not in_data(v, d, p, nums)})

def results_page_sources() -> str:
    nb = json.loads((ROOT / 'nbs' / 'results.ipynb').read_text(encoding='utf-8'))
    return '\n\n'.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] in ('markdown', 'code'))

def test_the_number_check_works():
    nums = {Decimal('0.417'), Decimal('3171'), Decimal('0.42'), Decimal('12.4'), Decimal('0.930')}
    text = "joint 0.93, 0.417, 3,171 s, 42 %, +12.4 %; at σ = 0.5 and `--w 0.7`; 300 conditions; 0.418 and 1,000"
    assert missing(text, nums) == ['0.418', '1,000']
    assert missing("$x = 0.77$ <!-- 0.66 --> [a](images/b_0.55.png)", nums) == []

def test_data_files_say_what_how_where_when():
    files = sorted(DATA.glob('*.json'))
    assert len(files) >= 20
    for p in files:
        d = json.loads(p.read_text(encoding='utf-8'), parse_float=Decimal)
        runs = list(d.get('runs', {}).values())                       # a table of several runs: each its command and date
        for k in ('what', 'machine', 'source'): assert isinstance(d.get(k), str) and d[k], f"{p.name}: no {k!r}"
        assert d.get('command') or runs and all(r.get('command') for r in runs), f"{p.name}: no command"
        assert d.get('date') or runs and all(r.get('date') for r in runs) or 'date' in d.get('columns', []), f"{p.name}: no date"
    assert sum(p.stat().st_size for p in files) < 400_000

def test_every_number_in_readme_is_in_the_data():
    bad = missing((ROOT / 'README.md').read_text(encoding='utf-8'), data_numbers())
    assert not bad, f"numbers in README.md that no file of nbs/results/ holds: {bad}"

def test_every_number_on_the_results_page_is_in_the_data():
    bad = missing(results_page_sources(), data_numbers())
    assert not bad, f"numbers in nbs/results.ipynb (markdown and code) that no file of nbs/results/ holds: {bad}"

def test_readme_tables_are_rendered_from_the_data(tmp_path):
    "Change a number in a copy of the data: the rendered README changes with it."
    assert build_readme.TABLE_MARK in ''.join(''.join(c['source']) for c in json.loads(build_readme.INDEX.read_text())['cells'])
    before = build_readme.render()
    data = tmp_path / 'results'; shutil.copytree(DATA, data)
    d = json.loads((data / 'cifar_shipped.json').read_text(encoding='utf-8'))
    assert '0.417' in before and '0.123' not in before
    d['rows'][0][2] = 0.123                                           # digit -> photo of the shipped weights
    (data / 'cifar_shipped.json').write_text(json.dumps(d), encoding='utf-8')
    after = build_readme.render(data_dir=data)
    assert after != before and '| **0.123** |' in after
    assert build_readme.render(data_dir=DATA) == before

def test_index_notebook_tables_are_current():
    "The tables inside nbs/index.ipynb (between the markers) are what the data renders: `make sync` refreshes them."
    assert build_readme.stale_tables() == [], "nbs/index.ipynb holds tables that differ from nbs/results/: run tools/build_readme.py"

def test_results_page_outputs_are_current():
    "The results page's stored outputs (what the docs show: nbdev does not execute it) are what its code makes of the data now."
    import os
    from execnb.shell import CaptureShell
    nb = json.loads((ROOT / 'nbs' / 'results.ipynb').read_text(encoding='utf-8'))
    def texts(outputs):
        return [''.join(o.get('data', {}).get('text/markdown', o.get('text', ''))) for o in outputs
                if o.get('output_type') in ('stream', 'execute_result', 'display_data') and ('text/markdown' in o.get('data', {}) or 'text' in o)]
    here = os.getcwd(); os.chdir(ROOT / 'nbs')                        # the notebook reads results/ relative to nbs/
    try:
        sh = CaptureShell(); sh.run('import matplotlib; matplotlib.use("Agg")')
        for c in (c for c in nb['cells'] if c['cell_type'] == 'code'):
            src = ''.join(c['source']); fresh = sh.run(src)
            assert not sh.exc, f"a code cell of nbs/results.ipynb fails: {src[:200]} -> {sh.exc!r}"
            assert texts(c.get('outputs', [])) == texts([dict(o) for o in fresh]), \
                f"nbs/results.ipynb's stored output differs from the data (execute it, then nbdev_clean): {src[:120]}"
    finally: os.chdir(here)
