#!/usr/bin/env python3
"""A script's printed JSON lines as a data file of the results page: `nbs/results/NAME.json`.

Benchmarks such as `benchmarks/checkpoint_coherence.py` print one JSON object per line. This copies those lines whole
into one JSON file with the command that printed them, the machine and the date, so the results page reads them and
no number is typed.

Usage: python tools/lines_data.py NAME LINES_FILE --what TEXT --command TEXT --machine TEXT [--out FILE]
  NAME        the data file's name (nbs/results/NAME.json)
  LINES_FILE  the script's standard output, saved (one JSON object per line; blank lines skipped)
"""
from __future__ import annotations
import datetime, json, sys
from pathlib import Path
from study_data import DATA, data_parser, dumps


def read_lines(path: Path) -> list[dict]:
    "The JSON objects of `path`, one per line; a one-line exit naming the first line that is not one."
    out = []
    for i, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
        if not line.strip(): continue
        try: d = json.loads(line)
        except json.JSONDecodeError: d = None
        if not isinstance(d, dict): sys.exit(f"lines_data: {path} line {i} is not a JSON object: {line[:80]!r}")
        out.append(d)
    if not out: sys.exit(f"lines_data: {path} holds no JSON line")
    return out


def main(argv=None):
    ap = data_parser('lines_data', __doc__, 'lines_file')
    a = ap.parse_args(argv)
    lines = read_lines(a.lines_file)
    date = datetime.date.fromtimestamp(a.lines_file.stat().st_mtime).isoformat()     # when the lines were printed
    out = {'what': a.what, 'command': a.command, 'machine': a.machine, 'date': date,
           'source': "the command's printed JSON lines, copied whole by tools/lines_data.py", 'lines': lines}
    target = a.out or DATA / f'{a.name}.json'
    target.write_text(dumps(out, listed=('lines',)), encoding='utf-8')
    print(f"{target}: {len(lines)} lines")
    return out


if __name__ == '__main__':
    main()
