#!/usr/bin/env python3
"""README.md from `nbs/index.ipynb` (settings.ini's `readme_nb`), without Quarto, its results tables from `nbs/results/`.

nbdev's `nbdev_readme` renders the notebook with Quarto, which cannot be installed where only package registries are
reachable. This renders the same notebook the way a GitHub front page needs it: markdown cells as they are, code cells
as fenced Python, Quarto-only `:::` blocks dropped, and links to the docs' images and notebooks rewritten from `nbs/`
to the repository root. `tests/test_docs.py` fails when README.md differs from what this writes.

The headline results tables are data: in the notebook's markdown a table sits between `<!-- table: NAME -->` and
`<!-- /table -->`, and `TABLES[NAME]` builds it from the files of `nbs/results/` (one JSON file per measured run). The
README gets the table built now (without the markers); running this script also writes it into the notebook, so the
docs' home page shows the same table. `--check` fails when either is stale (`tests/test_results.py` too).

Usage: python tools/build_readme.py [--check]
"""
from __future__ import annotations
import csv, json, re, sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INDEX = ROOT / 'nbs' / 'index.ipynb'
DATA = ROOT / 'nbs' / 'results'
HEADER = "<!-- Generated from nbs/index.ipynb by tools/build_readme.py (make sync): edit the notebook, not this file. -->\n\n"
TABLE_MARK = '<!-- table: '
REGION = re.compile(r'<!-- table: (\w+) -->\n(.*?)<!-- /table -->', re.S)

# ---- the tables: each a function of the data folder ----------------------------------------------------------------
def _load(data: Path, name: str) -> dict:
    return json.loads((data / f'{name}.json').read_text(encoding='utf-8'), parse_float=Decimal)

def _points(data: Path) -> dict:
    "`images → row` of the full CIFAR-10 × MNIST evaluations (`cifar_checkpoints.json` names the file, from the root)."
    path = ROOT / _load(data, 'cifar_checkpoints')['coherence']
    return {int(r['images']): r for r in csv.DictReader(path.open(encoding='utf-8'))}

def _row(cells) -> str: return '| ' + ' | '.join(str(c) for c in cells) + ' |'

def _table(head, rows) -> str:
    return '\n'.join([_row(head), '|' + '---|' * len(head), *(_row(r) for r in rows)]) + '\n'

def _b(v) -> str: return f'**{v}**'

def demo_coherence(data: Path) -> str:
    "The demo's conditional coherence, A → B."
    cc, ms = _load(data, 'demo')['conditional_coherence'], ['digit', 'word', 'scene']
    return _table(['conditional coherence A → B', *ms], [[_b(f'{a} →'), *(cc[a].get(b, '–') for b in ms)] for a in ms])

def demo_robustness(data: Path) -> str:
    "The demo's robustness AUCs: the paper's `replace` against ours, the condition taken as clean or calibrated."
    rb = _load(data, 'demo')['robustness']
    rows = []
    for r in rb['rows']:
        best = max(r[s]['auc'] for s in ('replace', 'guidance', 'calibrated'))
        rows.append([r['corruption'], *(_b(r[s]['auc']) if r[s]['auc'] == best else r[s]['auc'] for s in ('replace', 'guidance', 'calibrated'))])
    return _table(['robustness AUC (condition corrupted)', "the paper's `replace`", 'ours, taken as clean (`guidance`)',
                   'ours, `calibrated`'], rows)

SAME_BUDGET = 1120000        # ours at the budget closest to the paper's method's 1,000,000 pairs

def cifar_headline(data: Path) -> str:
    """CIFAR-10 × MNIST: the shipped (aligned) weights (both judges), the aligned ones shipped before them under the same
    evaluation on the same machine (the same evaluation classifiers), the unaligned ones shipped before those, ours at the paper's budget, the paper's method, from scratch."""
    s, s1, un, j, pp, c = (_load(data, n) for n in ('cifar_shipped', 'cifar_shipped_768k', 'cifar_unaligned', 'judge',
                                                    'cifar_paper_1m', 'cifar_120k'))
    ev, ju = s['rows']
    here = next(l for l in _load(data, 'cifar_same_machine')['lines'] if l['label'].startswith(f"{s1['weights']['pairs']:,} pairs"))
    acc = j['accuracy']['mirror + one-pixel shifts (the default)']
    o, ours, paper, t, it = _points(data)[SAME_BUDGET], c['runs']['ours'], c['runs']['paper'], s['targets'], s['issue_targets']
    rows = [
        [f"ours, shipped, REPA, {s['weights']['pairs']:,} pairs (`{s['command']}`)†", *(_b(v) for v in ev[1:4])],
        [f"the same samples, photos judged by the judge (`mjdiff.judge`, {acc:.3f} held-out)", *ju[1:4]],
        [f"ours, REPA, {s1['weights']['pairs']:,} pairs (the same command and machine, the weights shipped before)†",
         *(f'{v:.3f}' for v in (here['joint_coherence'], *(here['conditional_coherence'][k] for k in ('digit->photo', 'photo->digit'))))],
        [f"ours unaligned, {un['weights']['pairs']:,} pairs (the same command, the unaligned weights shipped before)", *un['rows'][0][1:4]],
        [f"ours unaligned, {SAME_BUDGET:,} pairs (the same command)*", o['joint'], o['digit->photo'], o['photo->digit']],
        [f"paper (`shared` σ, `replace`), {pp['weights']['pairs']:,} pairs (`{pp['command']}`)*",
         pp['joint_coherence'], pp['digit->photo'], pp['photo->digit']],
        [f"ours from scratch, {c['budget']['pairs']:,} pairs (`{ours['command']}`)", ours['joint_coherence'], ours['digit->photo'], ours['photo->digit']],
        [f"paper, {c['budget']['pairs']:,} pairs (`{paper['command']}`)", paper['joint_coherence'], paper['digit->photo'], paper['photo->digit']],
        [f"targets: the front page's / issue 32's (both judges, within {it['cpu_hours']} CPU-hours, encoder included)",
         *(f"≥ {t[k]:.2f} / {it[k]:.2f}" for k in ('joint_coherence', 'digit->photo', 'photo->digit'))]]
    return _table(['weights (command)', 'joint coherence', 'digit → photo', 'photo → digit'], rows)

TABLES = {'demo_coherence': demo_coherence, 'demo_robustness': demo_robustness, 'cifar_headline': cifar_headline}

def fill(text: str, data_dir: Path = DATA, keep_markers: bool = True) -> str:
    "`text` with every table region rebuilt from `data_dir`; without the markers when not `keep_markers`."
    def one(m):
        table = TABLES[m.group(1)](data_dir)
        return f'<!-- table: {m.group(1)} -->\n{table}<!-- /table -->' if keep_markers else table.rstrip('\n')
    return REGION.sub(one, text)

# ---- the notebook and README ---------------------------------------------------------------------------------------
def _read(nb_path: Path) -> dict: return json.loads(nb_path.read_text(encoding='utf-8'))

def render(nb_path: Path = INDEX, data_dir: Path = DATA) -> str:
    "The README text of the notebook at `nb_path`, its tables built from `data_dir`."
    parts = []
    for c in _read(nb_path)['cells']:
        src = ''.join(c['source']).strip('\n')
        if c['cell_type'] == 'markdown': parts.append(fill(src, data_dir, keep_markers=False))
        elif c['cell_type'] == 'code' and src and not src.startswith('#| hide'): parts.append(f"```python\n{src}\n```")
    text = '\n\n'.join(p for p in parts if p)
    text = re.sub(r'^:::\s*\{[^}]*\}\s*$.*?^:::\s*$\n?', '', text, flags=re.M | re.S)          # Quarto-only blocks
    text = re.sub(r'\]\((?!https?://|#|/)([^)\s]+)\)', lambda m: f"](nbs/{m.group(1)})", text)  # nbs/-relative links
    return HEADER + text.strip() + '\n'

def stale_tables(nb_path: Path = INDEX, data_dir: Path = DATA) -> list[str]:
    "Names of the tables in the notebook that differ from what the data builds now."
    out = []
    for c in _read(nb_path)['cells']:
        if c['cell_type'] != 'markdown': continue
        for m in REGION.finditer(''.join(c['source'])):
            if m.group(2) != TABLES[m.group(1)](data_dir): out.append(m.group(1))
    return out

def refresh_notebook(nb_path: Path = INDEX, data_dir: Path = DATA) -> bool:
    "Write the tables built now into the notebook (as `nbdev_clean` writes notebooks); whether it changed."
    nb = _read(nb_path); changed = False
    for c in nb['cells']:
        if c['cell_type'] != 'markdown': continue
        src = ''.join(c['source']); new = fill(src, data_dir)
        if new != src: c['source'], changed = new.splitlines(True), True
    if changed: nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    return changed

def main(argv=None) -> int:
    check = '--check' in (argv or sys.argv[1:])
    text, readme = render(), ROOT / 'README.md'
    if check:
        stale = stale_tables()
        ok = readme.exists() and readme.read_text(encoding='utf-8') == text and not stale
        print('README.md is up to date' if ok else f"README.md or the tables of nbs/index.ipynb ({', '.join(stale) or 'none stale'}) "
              'differ from nbs/index.ipynb and nbs/results/: run `make sync`'); return 0 if ok else 1
    if refresh_notebook(): print(f'refreshed the tables of {INDEX.relative_to(ROOT)} from {DATA.relative_to(ROOT)}/')
    readme.write_text(text, encoding='utf-8'); print(f'wrote {readme} ({len(text.splitlines())} lines)'); return 0

if __name__ == '__main__': sys.exit(main())
