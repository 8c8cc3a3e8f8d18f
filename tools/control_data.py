#!/usr/bin/env python3
"""A control study's verdict as a data file of the results page: `nbs/results/NAME.json`.

`mjdiff control` writes its runs and its verdict (`metrics_latent_control.json`) into a directory outside the
repository. This copies what the results page reads — every measure's joint and control values per seed, their paired
differences and intervals, the verdicts, the budget and the commit the runs ran — into one JSON file with the command
that made the runs, so no number on the page is typed.

Usage: python tools/control_data.py NAME CONTROL_DIR --what TEXT --command TEXT --machine TEXT [--out FILE]
  NAME         the data file's name (nbs/results/NAME.json)
  CONTROL_DIR  a finished `mjdiff control` output directory (control_runs.json, metrics_latent_control.json)
"""
from __future__ import annotations
import datetime, json, sys
from pathlib import Path
from study_data import DATA, data_parser, _round, encoder_record


def main(argv=None):
    ap = data_parser('control_data', __doc__, 'control_dir')
    a = ap.parse_args(argv)
    path = a.control_dir / 'metrics_latent_control.json'
    if not path.is_file(): sys.exit(f"control_data: {a.control_dir} has no metrics_latent_control.json (not finished?)")
    m, study = json.loads(path.read_text()), json.loads((a.control_dir / 'control_runs.json').read_text())
    first = Path(study['runs'][0]['dir'])
    rc, train = (json.loads((first / f).read_text()) for f in ('run_config.json', 'metrics_train.json'))
    code = a.control_dir / 'CODE'
    date = datetime.date.fromtimestamp(path.stat().st_mtime).isoformat()          # when the verdict was written
    out = {'what': a.what, 'command': a.command, 'machine': a.machine, 'date': date,
           'source': f"written by tools/control_data.py from the study's metrics_latent_control.json ({a.control_dir}; "
                     "the run directories are outside the repository)",
           'code': code.read_text().strip() if code.is_file() else None,
           'preset': study['preset'], 'overrides': study['overrides'], 'joint_mode': m['joint_mode'],
           'seeds': m['seeds'], 'parameters': train['parameters'], 'steps': rc['steps'], 'batch_size': rc['batch_size'],
           'pairs': rc['steps'] * rc['batch_size'], 'heldout_examples': rc.get('latent_n'), 'encoder': encoder_record(first),
           'level': m['level'], 'min_effect': m['min_effect'], 'primary': m['primary'], 'verdict': m['verdict'],
           'comparisons': _round(m['comparisons']),
           'per_run': [_round({k: v for k, v in r.items() if k != 'dir'}) for r in m['runs']]}
    target = a.out or DATA / f'{a.name}.json'
    target.write_text(json.dumps(out, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    print(f"{target}: {len(out['per_run'])} runs, primary {out['primary']!r}: {out['verdict']}")
    return out


if __name__ == '__main__':
    main()
