"""Results are data: every number README.md and the results page show is in `nbs/results/`, in a file its passage names,
and README's tables are rendered from it.

`nbs/results/` holds one JSON file per measured run or benchmark table, each with its `command`, `machine`, `date`
and `source` (where the numbers come from: a run's own output, or where they were typed when the run's files are not
kept). Numbers are written as they were measured, to the digits printed (`0.930`, not `0.93`); readers load them with
`json.loads(text, parse_float=Decimal)` to keep those digits. `benchmarks/cifar_coherence_points.csv` (the input of
`benchmarks/coherence_trend.py`) is data too.

Which numbers are checked — the convention:
- every decimal number (`0.417`, `52.8`), every number with thousands separators (`3,171`, `2,096,000`) and every
  percentage (`42 %`, `+12.4 %`) in README.md and in the markdown and code-cell sources of `nbs/results.ipynb`;
- against the data its passage names: a README section (split at `## `) or a markdown cell of the results page names
  its files in an HTML comment, `<!-- data: demo.json, cifar_coherence_points.csv -->` (README's come from
  `nbs/index.ipynb`); a code cell names the files it reads (`load('demo')`, `points()`) or carries `# data: …`.
  A passage with checked numbers and no such names fails;
- a number passes when a number of those files equals it at the shown precision (|data − shown| ≤ half a unit of the
  last shown digit), signs ignored; a percentage also matches a fraction (`42 %` ↔ `0.42`);
- not checked: plain integers without a thousands separator (counts, steps, seeds, sizes, section numbers, years);
  code (fenced blocks and `inline code`: commands and parameter settings), math (`$…$`), link targets, HTML comments;
  a threshold, written right after `≤`, `≥`, `<` or `>` (`Python ≥ 3.10`); and a setting, written right after `=` whose
  left side is a parameter: one letter (`w = 2`, `s = 0`), a Greek one (`σ_B = 4`), an identifier with `_`, or code or
  math (`` `p_mask` = 0.5 ``). Any other `=` is a result and checked (`coherence = 0.999`).
So a result typed in prose must be one of its own data files' numbers, and code cells read numbers rather than type them.
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

def _file_numbers(p: Path) -> set:
    if p.suffix == '.csv':
        nums = set()
        for row in csv.DictReader(p.open(encoding='utf-8')):
            for v in row.values():
                try: nums.add(Decimal(v))
                except Exception: pass
        return {abs(n) for n in nums if n.is_finite()}
    return {abs(n) for n in _leaves(json.loads(p.read_text(encoding='utf-8'), parse_float=Decimal, parse_int=Decimal))}

def data_files(folder: Path = DATA) -> dict:
    "`file name → its numbers`: the JSON files of `folder` and the CSV data."
    return {p.name: _file_numbers(p) for p in [*sorted(folder.glob('*.json')), *EXTRA_DATA]}

def data_numbers(folder: Path = DATA) -> set:
    "Every number in the data: JSON numbers of `folder`'s files and the numeric cells of the CSV data."
    return set().union(*data_files(folder).values())

NUMBER = re.compile(r'(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+)(?![\w])(\s?%)?')
CODE = '\u2063'                                   # what stands for code and math in `prose`: a setting's left side
PARAMETER = re.compile(rf'(?:{CODE}|(?<![\w\u0370-\u03ff])[A-Za-z\u0370-\u03ff](?:_\w+)?|[A-Za-z]\w*_\w+)\s*=$')
NOT_RESULTS = (                                   # shown numbers that are not measurements (a rule, a target): kept out
    'thousands separators from 1,000 on',         # results.ipynb's setup cell: what `fmt` does
    'stays within 15 % per image',                # results.ipynb, alignment cost: the target it is measured against
    'square of up to 75 % noisy',                 # results.ipynb, mask input: a training setting, not in the data
    'after 5,000',                                # results.ipynb, mask input: 2,000 + 3,000 fine-tune steps (a sum)
    '15 % of the run',                            # results.ipynb, long runs: 5,000 of the run's steps (a ratio)
)
DATA_NOTE = re.compile(r'<!--\s*data:\s*(.*?)\s*-->|(?:^|\s)#\s*data:\s*(.*)$', re.M)

def prose(text: str) -> str:
    "`text` without what is not checked: code and math (each left as one placeholder), HTML comments, link targets."
    text = re.sub(r'```.*?```', ' ', text, flags=re.S)
    text = re.sub(r'<!--.*?-->', ' ', text, flags=re.S)
    text = re.sub(r'\$\$.*?\$\$|\$[^$\n]+\$', f' {CODE} ', text)
    text = re.sub(r'`[^`\n]*`', f' {CODE} ', text)
    text = re.sub(r'\]\([^)]*\)', ']', text)
    return re.sub(r'https?://\S+', ' ', text)

def shown_numbers(text: str) -> list:
    "`(token, Decimal value, decimals, is_percent)` of each checked number of `text` (see the module's docstring)."
    out, text = [], prose(text)
    for m in NUMBER.finditer(text):
        tok, pct = m.group(1), bool(m.group(2))
        if not (pct or ',' in tok or '.' in tok): continue
        before = text[:m.start()].rstrip()
        if before.endswith(('≤', '≥', '<', '>')) or PARAMETER.search(before): continue
        digits = tok.replace(',', '')
        out.append((tok + ('%' if pct else ''), Decimal(digits), len(digits.split('.')[1]) if '.' in digits else 0, pct))
    return out

def in_data(value: Decimal, decimals: int, pct: bool, nums: set) -> bool:
    half = Decimal(5) * Decimal(10) ** -(decimals + 1)
    candidates = [value] + ([value / 100] if pct else [])
    hws = [half] + ([half / 100] if pct else [])
    return any(abs(n - c) <= h for c, h in zip(candidates, hws) for n in nums)

def missing(text: str, nums: set) -> list:
    "The shown numbers of `text` that are not in `nums`."
    return sorted({tok for tok, v, d, p in shown_numbers(text) if not in_data(v, d, p, nums)})

def named_files(text: str, code: bool = False) -> list:
    "The data files a passage names: its `<!-- data: … -->` (or `# data: …`) notes; for code, also what it `load`s."
    names = [n.strip() for m in DATA_NOTE.finditer(text) for n in (m.group(1) or m.group(2) or '').split(',') if n.strip()]
    if code:
        names += [f'{n}.json' for n in re.findall(r"\bload\('(\w+)'\)", text)]
        if re.search(r'\bpoints\(\)', text): names.append(EXTRA_DATA[0].name)
    return list(dict.fromkeys(names))

def untied(passages, files: dict) -> list:
    "For `(where, text, is_code)` passages: a line for each shown number that is not in the files its passage names."
    out = []
    for where, text, code in passages:
        for s in NOT_RESULTS: text = text.replace(s, ' ')
        shown = shown_numbers(text)
        if not shown: continue
        names = named_files(text, code)
        if not names:
            out.append(f"{where}: shows {', '.join(t for t, *_ in shown)} but names no data file (<!-- data: FILE.json -->)"); continue
        unknown = [n for n in names if n not in files]
        if unknown: out.append(f"{where}: names {unknown}, not files of nbs/results/ (or {EXTRA_DATA[0].name})"); continue
        bad = missing(text, set().union(*(files[n] for n in names)))
        if bad: out.append(f"{where}: {bad} in none of {names}")
    return out

def _title(text: str) -> str:
    return next((l.strip()[:70] for l in text.splitlines() if l.strip() and not l.startswith('<!--')), '')

def readme_sections(text: str) -> list:
    "README's sections (split at `## `) as passages."
    return [(f'README.md section {_title(s)!r}', s, False) for s in re.split(r'(?m)^(?=## )', text)]

def results_page_cells(nb: dict = None) -> list:
    "The markdown and code cells of the results page as passages."
    nb = nb or json.loads((ROOT / 'nbs' / 'results.ipynb').read_text(encoding='utf-8'))
    return [(f"nbs/results.ipynb cell {i} ({c['cell_type']}: {_title(''.join(c['source']))!r})", ''.join(c['source']), c['cell_type'] == 'code')
            for i, c in enumerate(nb['cells']) if c['cell_type'] in ('markdown', 'code')]

def results_page_sources() -> str:
    return '\n\n'.join(text for _, text, _ in results_page_cells())

def test_the_number_check_works():
    nums = {Decimal('0.417'), Decimal('3171'), Decimal('0.42'), Decimal('12.4'), Decimal('0.930')}
    text = "joint 0.93, 0.417, 3,171 s, 42 %, +12.4 %; at σ = 0.5, σ_B = 0.25, `p_mask` = 0.9 and `--w 0.7`; 300 conditions; 0.418 and 1,000"
    assert missing(text, nums) == ['0.418', '1,000']
    assert missing("$x = 0.77$ <!-- 0.66 --> [a](images/b_0.55.png)", nums) == []
    assert missing("coherence = 0.999, joint=0.93", nums) == ['0.999']        # a result after `=` is checked
    files = {'a.json': {Decimal('0.5')}, 'b.json': {Decimal('0.25')}}
    assert untied([('x', 'at 0.5 <!-- data: a.json -->', False)], files) == []
    assert 'in none of' in untied([('x', 'at 0.25 <!-- data: a.json -->', False)], files)[0]  # only the files it names
    assert 'names no data file' in untied([('x', 'at 0.5', False)], files)[0]
    assert 'not files' in untied([('x', 'at 0.5 <!-- data: c.json -->', False)], files)[0]
    assert untied([('x', "d = load('a')\nshow('0.5')", True)], {'a.json': {Decimal('0.5')}}) == []

def _off_by_one(tok: str, up: bool = True) -> str:
    "`tok` changed by one unit in its last digit."
    digits = tok.replace(',', '').rstrip('%'); d = len(digits.split('.')[1]) if '.' in digits else 0
    v = Decimal(digits) + (1 if up else -1) * Decimal(10) ** -d
    out = f'{v:,.{d}f}' if ',' in tok else f'{v:.{d}f}'
    return out + ('%' if tok.endswith('%') else '')

def test_the_check_bites():
    "One cited number of README and of a results-page cell changed by one unit in its last digit: the check reports it."
    files, readme = data_files(), (ROOT / 'README.md').read_text(encoding='utf-8')
    assert untied(readme_sections(readme), files) == []
    def caught(text, old, alts, check):
        "Whether some value next to `old` (one unit off; one not in the data by chance) put in `text` is reported."
        for alt in alts:
            bad = text.replace(old, old.replace(old.strip('*()'), alt), 1)
            assert bad != text
            if any(f"['{alt}']" in l for l in check(bad)): return True
        return False
    assert caught(readme, '**0.930**', ('0.931', '0.929', '0.932', '0.928'), lambda t: untied(readme_sections(t), files))
    cells = results_page_cells()
    i, (where, text, _) = next((i, c) for i, c in enumerate(cells) if 'joint − control +0.033' in c[1])
    def in_cells(t):
        cs = list(cells); cs[i] = (where, t, False); return untied(cs, files)
    assert caught(text, '+0.033', ('0.034', '0.032', '0.035', '0.031'), in_cells)
    # and not only these two: most of README's shown numbers, one unit off, leave the files their section names
    passages = [p for p in readme_sections(readme) if shown_numbers(p[1])]
    caught = total = 0
    for where, text, code in passages:
        nums = set().union(*(files[n] for n in named_files(text)))
        for tok, v, d, pct in shown_numbers(text):
            total += 1; caught += not in_data(*shown_numbers(_off_by_one(tok))[0][1:], nums)
    assert total > 30 and caught / total > 0.6, (caught, total)

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
    bad = untied(readme_sections((ROOT / 'README.md').read_text(encoding='utf-8')), data_files())
    assert not bad, "numbers in README.md not in the files their section names (nbs/index.ipynb: <!-- data: … -->):\n" + '\n'.join(bad)

def test_every_number_on_the_results_page_is_in_the_data():
    bad = untied(results_page_cells(), data_files())
    assert not bad, "numbers in nbs/results.ipynb not in the files their cell names:\n" + '\n'.join(bad)

def test_readme_tables_are_rendered_from_the_data(tmp_path):
    "Change a number in a copy of the data: the rendered README changes with it."
    assert build_readme.TABLE_MARK in ''.join(''.join(c['source']) for c in json.loads(build_readme.INDEX.read_text())['cells'])
    before = build_readme.render()
    data = tmp_path / 'results'; shutil.copytree(DATA, data)
    d = json.loads((data / 'cifar_shipped.json').read_text(encoding='utf-8'))
    shown = json.loads((data / 'cifar_shipped.json').read_text(encoding='utf-8'), parse_float=Decimal)['rows'][0][2]
    assert f"| **{shown}** |" in before and '0.123' not in before
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

def test_shipped_data_is_read_from_the_run_and_the_weights(tmp_path):
    "`tools/shipped_data.py` copies an evaluation's metrics (rows to the printed digits) and the weights' recorded state."
    import torch, shipped_data
    from mjdiff.checkpoint import pretrained_path
    ev, tr = tmp_path / 'eval', tmp_path / 'train'; ev.mkdir(); tr.mkdir()
    fd = {'photo': 10.7652, 'digit': 9.103}
    (ev / 'metrics.json').write_text(json.dumps({
        'joint_coherence': 0.41333, 'conditional_coherence': {'photo->digit': 0.54, 'digit->photo': 0.48},
        'joint_coherence_judge': 0.38, 'conditional_coherence_judge': {'photo->digit': 0.54, 'digit->photo': 0.41667},
        'joint_sampling': {'class_balance': {'photo': 0.96451, 'digit': 0.97}, 'class_balance_judge': {'photo': 0.964},
                           'classifier_heldout_accuracy': {'photo': 0.794, 'digit': 0.99}, 'frechet_distance': fd},
        'cross_modal': {'frechet_distance': {'digit->photo': 7.5189}, 'robustness_auc': {'noise/calibrated': 0.3}},
        'latent_space': {'linear_probe': {'bottleneck:photo': 0.44667}}}))
    (ev / 'run_config.json').write_text(json.dumps({'steps': 100, 'lr': 1e-4, 'n_cond': 300, 'n_joint': 300, 'guidance': 2.0,
                                                    'joint_guidance': 2.0, 'sampler': 'heun', 'sample_steps': 18}))
    (tr / 'run_config.json').write_text(json.dumps({'align_modality': ''}))        # unaligned: no encoder to count
    ck = torch.load(pretrained_path('cifar10_mnist'), weights_only=True, map_location='cpu')
    ck['config']['train'] = {k: v for k, v in ck['config']['train'].items() if not k.startswith('align_')}
    ck['step'], ck['config']['train']['steps'] = 900, 1000                           # exported before the run's end
    ck['state']['warm_from'] = 600                            # went on from exported weights at step 600
    torch.save(ck, w := tmp_path / 'unaligned.pt')
    out = shipped_data.main([str(ev), '--train-run', str(tr), '--run', 'r', '--wall-time', '61', '--machine', 'm',
                             '--weights', str(w), '--out', str(tmp_path / 's.json')])
    text = (tmp_path / 's.json').read_text()
    assert '"rows": [["evaluation classifier", 0.413, 0.480, 0.540, 0.965], ["judge (mjdiff.judge)", 0.380, 0.417, 0.540, 0.964]]' in text
    assert out['weights']['steps'] == 900 and out['weights']['encoder'] is None and out['weights']['alignment'] is None
    decay = ck['config']['train']['lr_decay']
    assert (out['weights']['constant_lr_steps'], out['weights']['lr_decay_steps']) == (1000 - decay, decay)
    assert (out['weights']['warm_from'], out['weights']['warmup_steps']) == (600, ck['config']['train']['warmup'])
    assert out['weights']['cpu_hours'] == round(ck['state']['cpu_seconds'] / 3600, 2)
    assert out['finetune'] == {'steps': 100, 'lr': 1e-4} and out['robustness_auc'] == {'noise/calibrated': 0.3}
    assert out['settings']['guidance_sigma_min'] == 0.0                              # a run from before the interval: at every σ
    assert out['latent']['linear_probe']['bottleneck:photo'] == 0.4467 and out['frechet_distance']['joint'] == fd
    assert out['what'].startswith('The shipped') and out['wall_time_includes'] == 'installation on a fresh clone'
    rc = json.loads((ev / 'run_config.json').read_text())
    (ev / 'run_config.json').write_text(json.dumps({**rc, 'guidance_sigma_min': 1.0, 'joint_guidance_sigma_min': 1.0}))
    other = shipped_data.main([str(ev), '--train-run', str(tr), '--run', 'r', '--wall-time', '61', '--machine', 'm', '--weights',
                               str(w), '--out', str(tmp_path / 'c.json'), '--what', 'a candidate', '--wall-time-includes', 'no installation'])
    assert (other['what'], other['wall_time_includes']) == ('a candidate', 'no installation') and other['rows'] == out['rows']
    assert (other['settings']['guidance_sigma_min'], other['settings']['joint_guidance_sigma_min']) == (1.0, 1.0)
    (tr / 'run_config.json').write_text(json.dumps({'align_modality': 'photo'}))    # another run than the weights'
    with pytest.raises(SystemExit, match='not the run they were exported from'):
        shipped_data.main([str(ev), '--train-run', str(tr), '--run', 'r', '--wall-time', '61', '--machine', 'm',
                           '--weights', str(w), '--out', str(tmp_path / 's2.json')])

def test_shipped_data_describes_the_shipped_weights():
    "`nbs/results/cifar_shipped.json` is of the weights in mjdiff/assets (their steps, images and CPU-hours), not older ones."
    import torch
    from mjdiff.checkpoint import pretrained_path
    d = json.loads((DATA / 'cifar_shipped.json').read_text(encoding='utf-8'))['weights']
    ck = torch.load(pretrained_path('cifar10_mnist'), weights_only=True, map_location='cpu')
    assert (d['steps'], d['pairs']) == (ck['step'], ck['state'].get('images', ck['step'] * ck['config']['train']['batch_size']))
    assert d['cpu_hours_training'] == round(ck['state']['cpu_seconds'] / 3600, 2)
    assert (d['alignment'] or {}).get('align_modality', '') == ck['config']['train'].get('align_modality', '')

def test_unaligned_reference_weights_are_each_presets_unaligned_weights():
    "`tools/study_data.py`'s unaligned reference weights exist at their commits, are unaligned, and are of their preset's method."
    import io, subprocess, torch, study_data
    shallow = subprocess.run(['git', '-C', str(ROOT), 'rev-parse', '--is-shallow-repository'], capture_output=True, text=True)
    if shallow.returncode or shallow.stdout.strip() == 'true': pytest.skip('no full git history here (the weights are read at their commits)')
    for preset, (file, commit, _) in study_data.UNALIGNED_WEIGHTS.items():
        blob = subprocess.run(['git', '-C', str(ROOT), 'show', f'{commit}:{file}'], capture_output=True)
        assert blob.returncode == 0, f"{file} is not in commit {commit}: {blob.stderr.decode()[:200]}"
        ck = torch.load(io.BytesIO(blob.stdout), weights_only=True, map_location='cpu')
        train = ck['config']['train']
        assert not train.get('align_modality') and 'align_head' not in ck, f"{file} at {commit} is aligned"
        assert train['sigma_mode'] == ('shared' if 'paper' in preset else 'per_modality'), (preset, train['sigma_mode'])

def test_lines_data_copies_a_scripts_json_lines(tmp_path):
    "`tools/lines_data.py` copies printed JSON lines whole, with what, command, machine and date; a line that is not JSON is refused."
    import lines_data
    (f := tmp_path / 'out.jsonl').write_text('{"w": 2.0, "digit->photo": 0.52}\n\n{"joint_w": 3.0, "joint": 0.433}\n')
    d = lines_data.main(['t', str(f), '--what', 'w', '--command', 'c', '--machine', 'm', '--out', str(tmp_path / 't.json')])
    assert json.loads((tmp_path / 't.json').read_text()) == d and d['lines'] == [{'w': 2.0, 'digit->photo': 0.52}, {'joint_w': 3.0, 'joint': 0.433}]
    assert all(d[k] for k in ('what', 'command', 'machine', 'date', 'source'))
    f.write_text('{"w": 2.0}\nTraceback (most recent call last):\n')
    with pytest.raises(SystemExit, match='line 2 is not a JSON object'):
        lines_data.main(['t', str(f), '--what', 'w', '--command', 'c', '--machine', 'm', '--out', str(tmp_path / 't2.json')])
