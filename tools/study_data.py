#!/usr/bin/env python3
"""A study's learning curves as a data file of the results page: `nbs/results/NAME.json`.

`mjdiff study` and `mjdiff reproduce` write their curves (`curve.csv`) into run directories outside the repository,
which a lost machine loses. This copies what the results page and README read — every arm's curve as written, the
study's arms and settings, the alignment encoder's accuracy and cost, the commit the runs ran — into one JSON file,
with the command that made the runs, so every number shown comes from a file in the repository and none is typed.

Usage: python tools/study_data.py NAME STUDY_DIR --what TEXT --command TEXT --machine TEXT [--run LABEL=RUN_DIR ...]
                                  [--eval LABEL=RUN_DIR ...] [--out FILE]
  NAME       the data file's name (nbs/results/NAME.json)
  STUDY_DIR  a `mjdiff study` output directory (study.json, one directory per arm)
  --run      a further run directory whose curve joins the file under LABEL (a long run continued from an arm)
  --eval     a full evaluation (`mjdiff reproduce --preset cifar10_mnist_pm_cpu --param init_from=<an arm's weights>`)
             whose headline numbers (metrics.json: coherence with the evaluation classifiers and with the judge, the
             latent stage's probe) join the file under LABEL
The curves gain a column `cpu_hours_total`: the run's CPU-hours with the alignment encoder's training for a run that
uses one (one encoder per file: the runs align the same modality of the same data).
"""
from __future__ import annotations
import argparse, csv, datetime, json, math, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / 'nbs' / 'results'


def _number(v: str):
    "A CSV cell as written: an int where it has no point, else a float (its repr is the CSV's digits)."
    f = float(v)
    return None if math.isnan(f) else int(f) if f.is_integer() and '.' not in v else f


def read_rows(run_dir: Path) -> tuple[list[str], list[list]]:
    "`(columns, rows)` of `run_dir/curve.csv`, numbers as written (NaN as None); no rows when there is none."
    path = run_dir / 'curve.csv'
    if not path.is_file(): return [], []
    with open(path, newline='') as f: rows = list(csv.reader(f))
    return rows[0], [[_number(v) for v in r] for r in rows[1:]]


def run_record(run_dir: Path) -> dict:
    "A run's parameters that say what it is: its preset, the overrides asked for, and the alignment settings."
    rc = json.loads((run_dir / 'run_config.json').read_text())
    keep = ('batch_size', 'lr', 'steps', 'eval_every', 'align_modality', 'align_with', 'align_stage',
            'align_teacher_stage', 'align_weight', 'align_until', 'align_known', 'xflip', 'sigma_mode', 'strategy')
    return {'preset': rc['preset'], 'overrides': rc.get('overrides', {}), **{k: rc[k] for k in keep if k in rc}}


def uses_encoder(record: dict) -> bool:
    "Whether a run aligns with an outside encoder (REPA), whose training its CPU-hours include."
    return bool(record.get('align_modality')) and record.get('align_with', 'encoder') == 'encoder'


def encoder_record(run_dir: Path) -> dict | None:
    "The alignment encoder of a run that aligns with one: accuracy and cost (scored once if its file lacks it)."
    from mjdiff.config import RunConfig
    from mjdiff.stages import align_encoder_info
    rc = json.loads((run_dir / 'run_config.json').read_text())
    if not uses_encoder(rc): return None
    info = align_encoder_info(RunConfig(**{k: v for k, v in rc.items() if k in RunConfig.__dataclass_fields__}))
    cpu = info['cpu_seconds']
    if cpu is None: sys.exit(f"study_data: the encoder {info['path']} does not say what it cost (no cpu_seconds)")
    return {'file': Path(info['path']).name, 'recipe': info['recipe'], 'heldout_accuracy': info['heldout_acc'],
            'heldout_images': info['n_heldout'], 'cpu_seconds': round(cpu, 1), 'cpu_hours': round(cpu / 3600, 3)}


def dumps(d: dict, digits: dict[str, int] | None = None, listed: tuple = ()) -> str:
    """JSON with a line per key, and a line per curve row (the file stays readable and its diffs small). `digits`:
    keys whose numbers (in lists of lists) are written to that many decimals, as measured (`0.480`, not `0.48`);
    `listed`: keys whose lists are written an item per line."""
    j = lambda v: json.dumps(v, ensure_ascii=False)
    fixed = lambda v, n: (f'{v:.{n}f}' if isinstance(v, float) else j(v)) if not isinstance(v, list) else \
        '[' + ', '.join(fixed(x, n) for x in v) + ']'
    lines = []
    for k, v in d.items():
        if k in (digits or {}): lines.append(f'{j(k)}: {fixed(v, digits[k])}')
        elif k == 'curves':
            arms = [f' {j(a)}: [\n' + ',\n'.join(f'  {j(r)}' for r in rows) + '\n ]' for a, rows in v.items()]
            lines.append(f'{j(k)}: {{\n' + ',\n'.join(arms) + '\n}')
        elif k in listed: lines.append(f'{j(k)}: [\n' + ',\n'.join(f' {j(x)}' for x in v) + '\n]')
        else: lines.append(f'{j(k)}: {j(v)}')
    return '{\n' + ',\n'.join(lines) + '\n}\n'


UNALIGNED = 'f849406'    # the last commit whose mjdiff/assets/cifar10_mnist.pt is the unaligned weights (shipped until then)
# each CIFAR-10 × MNIST preset's unaligned reference weights, as (file, commit, what): its long run's kept weights
UNALIGNED_WEIGHTS = {
    'cifar10_mnist_pretrain': ('mjdiff/assets/cifar10_mnist.pt', UNALIGNED, 'unaligned, 2,096,000 pairs'),
    'cifar10_mnist_paper_pretrain': ('mjdiff/assets/cifar10_mnist_paper.pt', '727fd4a',
                                     "the paper's method, unaligned, 1,000,000 pairs")}


def unaligned_probe(preset: str) -> dict | None:
    """The curve's bottleneck probe (its held-out examples, σ and seed) of the preset's unaligned reference weights
    (`UNALIGNED_WEIGHTS`, read with git at their commit): where the arms' `probe_<m>` columns stand against them; None
    for a preset without."""
    import subprocess, tempfile
    from mjdiff.checkpoint import load_model
    from mjdiff.evaluation import bottleneck_probe
    from mjdiff.presets import resolve_config
    from mjdiff.stages import run_sets
    if preset not in UNALIGNED_WEIGHTS: return None
    file, commit, what = UNALIGNED_WEIGHTS[preset]
    cfg = resolve_config(preset)
    c, (_, held) = cfg.curve_config(), run_sets(cfg, 'heldout')
    blob = subprocess.run(['git', '-C', str(ROOT), 'show', f'{commit}:{file}'], capture_output=True, check=True).stdout
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / 'w.pt').write_bytes(blob)
        probe = bottleneck_probe(load_model(Path(d) / 'w.pt'), held, c.n_probe, seed=c.seed)
    return {'weights': f'{file} at {commit} ({what})', 'n': c.n_probe, **{k: round(v, 3) for k, v in probe.items()}}


def _round(x, digits: int = 4):
    "Floats in `x` (nested dicts and lists too) rounded to `digits` decimals."
    if isinstance(x, float): return round(x, digits)
    if isinstance(x, dict): return {k: _round(v, digits) for k, v in x.items()}
    if isinstance(x, list): return [_round(v, digits) for v in x]
    return x


def eval_record(run_dir: Path) -> dict:
    "The headline numbers of a finished `mjdiff reproduce` run, and the weights it started from."
    path = run_dir / 'metrics.json'
    if not path.is_file(): sys.exit(f"study_data: {run_dir} has no metrics.json (not finished?)")
    m, rc = json.loads(path.read_text()), json.loads((run_dir / 'run_config.json').read_text())
    keep = ('joint_coherence', 'conditional_coherence', 'joint_coherence_judge', 'conditional_coherence_judge')
    joint, cross, latent = (m.get(k, {}) for k in ('joint_sampling', 'cross_modal', 'latent_space'))
    return _round({'preset': rc['preset'], 'init_from': rc.get('init_from'), 'n_cond': rc.get('n_cond'),
            'n_joint': rc.get('n_joint'), 'guidance': rc.get('guidance'), **{k: m.get(k) for k in keep},
            'class_balance': joint.get('class_balance'), 'class_balance_judge': joint.get('class_balance_judge'),
            'joint_frechet_distance': joint.get('frechet_distance'),
            'conditional_frechet_distance': cross.get('frechet_distance'),
            'latent_linear_probe': latent.get('linear_probe'), 'latent_retrieval': latent.get('retrieval')})


def data_parser(prog: str, doc: str, source: str) -> argparse.ArgumentParser:
    "The arguments every data-file tool takes: NAME, where the numbers are read (`source`), what, command, machine, --out."
    ap = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    ap.add_argument('name'); ap.add_argument(source, type=Path)
    ap.add_argument('--what', required=True); ap.add_argument('--command', required=True)
    ap.add_argument('--machine', required=True)
    ap.add_argument('--out', type=Path, help='the file to write (default: nbs/results/NAME.json)')
    return ap


def main(argv=None):
    ap = data_parser('study_data', __doc__, 'study_dir')
    ap.add_argument('--run', action='append', default=[], metavar='LABEL=RUN_DIR')
    ap.add_argument('--eval', action='append', default=[], metavar='LABEL=RUN_DIR')
    a = ap.parse_args(argv)
    study = json.loads((a.study_dir / 'study.json').read_text())
    runs = {name: a.study_dir / name for name in study['arms']}
    for spec in a.run:
        label, _, d = spec.partition('=')
        if not d: sys.exit(f"study_data: --run takes LABEL=RUN_DIR, got {spec!r}")
        if label in runs: sys.exit(f"study_data: --run {label} names an arm of the study; choose another label")
        runs[label] = Path(d)
    columns, curves, records, encoder = None, {}, {}, None
    for label, d in runs.items():
        cols, rows = read_rows(d)
        if not rows: print(f"study_data: {label} has no curve row yet, left out"); continue
        if columns is None: columns = cols
        if cols != columns: sys.exit(f"study_data: {d / 'curve.csv'} has other columns than the first run's")
        curves[label], records[label] = rows, run_record(d)
        e = encoder_record(d)
        if e and encoder and e['file'] != encoder['file']:
            sys.exit(f"study_data: {label} aligns with another encoder ({e['file']}) than the others ({encoder['file']})")
        encoder = encoder or e
    if not curves: sys.exit(f"study_data: no run in {a.study_dir} has a learning curve yet")
    # what each point cost, the encoder's training included for a run that aligns with it
    columns = columns + ['cpu_hours_total']
    h = columns.index('cpu_hours')
    for label, rows in curves.items():
        extra = encoder['cpu_seconds'] / 3600 if uses_encoder(records[label]) else 0
        for row in rows: row.append(None if row[h] is None else round(row[h] + extra, 4))
    # the commit every arm ran (CODE), and any arm that ran another (CODE_<arm>)
    code = {f.name[5:] or 'study': f.read_text().strip() for f in sorted(a.study_dir.glob('CODE*'))}
    out = {'what': a.what, 'command': a.command, 'machine': a.machine, 'date': datetime.date.today().isoformat(),
           'source': f"written by tools/study_data.py from the runs' curve.csv and run_config.json ({a.study_dir}; "
                     "the run directories are outside the repository)",
           'code': code or None,
           'preset': study['preset'], 'images': study['images'], 'eval_images': study['eval_images'],
           'arms': study['arms'], 'runs': records, 'encoder': encoder,
           'unaligned_probe': unaligned_probe(study['preset']),
           'evaluations': {label: eval_record(Path(d)) for label, _, d in (e.partition('=') for e in a.eval)},
           'columns': columns, 'curves': curves}
    path = a.out or DATA / f'{a.name}.json'
    path.write_text(dumps(out), encoding='utf-8')
    print(f"{path}: {len(curves)} runs, {sum(map(len, curves.values()))} curve rows")
    return out


if __name__ == '__main__':
    main()
