#!/usr/bin/env python3
"""README.md from `nbs/index.ipynb` (settings.ini's `readme_nb`), without Quarto.

nbdev's `nbdev_readme` renders the notebook with Quarto, which cannot be installed where only package registries are
reachable. This renders the same notebook the way a GitHub front page needs it: markdown cells as they are, code cells
as fenced Python, Quarto-only `:::` blocks dropped, and links to the docs' images and notebooks rewritten from `nbs/`
to the repository root. `tests/test_docs.py` fails when README.md differs from what this writes.

Usage: python tools/build_readme.py [--check]
"""
from __future__ import annotations
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = "<!-- Generated from nbs/index.ipynb by tools/build_readme.py (make sync): edit the notebook, not this file. -->\n\n"

def render(nb_path: Path = ROOT / 'nbs' / 'index.ipynb') -> str:
    "The README text of the notebook at `nb_path`."
    nb = json.loads(nb_path.read_text(encoding='utf-8'))
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source']).strip('\n')
        if c['cell_type'] == 'markdown': parts.append(src)
        elif c['cell_type'] == 'code' and src and not src.startswith('#| hide'): parts.append(f"```python\n{src}\n```")
    text = '\n\n'.join(p for p in parts if p)
    text = re.sub(r'^:::\s*\{[^}]*\}\s*$.*?^:::\s*$\n?', '', text, flags=re.M | re.S)          # Quarto-only blocks
    text = re.sub(r'\]\((?!https?://|#|/)([^)\s]+)\)', lambda m: f"](nbs/{m.group(1)})", text)  # nbs/-relative links
    return HEADER + text.strip() + '\n'

def main(argv=None) -> int:
    check = '--check' in (argv or sys.argv[1:])
    text, readme = render(), ROOT / 'README.md'
    if check:
        ok = readme.exists() and readme.read_text(encoding='utf-8') == text
        print('README.md is up to date' if ok else 'README.md differs from nbs/index.ipynb: run `make sync`'); return 0 if ok else 1
    readme.write_text(text, encoding='utf-8'); print(f'wrote {readme} ({len(text.splitlines())} lines)'); return 0

if __name__ == '__main__': sys.exit(main())
