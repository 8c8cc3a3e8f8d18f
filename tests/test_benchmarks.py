"Smoke tests of the benchmark scripts (tiny budgets): they run, and their tables hold what they claim."
import csv, math, os, subprocess, sys
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable  # the interpreter under test

def run(*args):
    r = subprocess.run([PY, *args], capture_output=True, text=True, cwd=ROOT, timeout=900, env={**os.environ, 'MPLBACKEND': 'Agg'})
    assert r.returncode == 0, r.stderr[-3000:]
    return r

def test_loss_curves(tmp_path):
    r = run('benchmarks/loss_curves.py', '--steps', '4', '--batch', '4', '--eval_repeats', '1', '--n_heldout', '64', '--out', str(tmp_path))
    rows = list(csv.DictReader(open(tmp_path / 'loss_curves.csv')))
    assert [x['precision'] for x in rows] == ['fp32', 'bf16']
    for x in rows: assert all(math.isfinite(float(x[k])) and float(x[k]) > 0 for k in ('train_loss_last20pct', 'heldout_loss_ema', 'heldout_loss_raw'))
    assert (tmp_path / 'curves.png').is_file() and (tmp_path / 'bf16' / 'train_log.csv').is_file()
    assert 'held-out loss ratio' in r.stdout

def test_sampling_quick(tiny_run, tmp_path):
    out, _ = tiny_run
    r = run('benchmarks/sampling.py', '--run', str(out), '--quick', '--steps', '2,3,4', '--n', '10', '--out', str(tmp_path))
    rows = list(csv.DictReader(open(tmp_path / 'sampling.csv')))
    assert {(x['sampler'], x['strategy']) for x in rows} == {(s, t) for s in ('heun', 'dpmpp_2m') for t in ('replace', 'exact')}
    for x in rows:
        assert 0 <= float(x['coherence']) <= 1 and float(x['fd']) >= 0 and float(x['s_per_sample']) > 0
    heun = sorted((int(x['steps']), float(x['nfe'])) for x in rows if x['sampler'] == 'heun' and x['strategy'] == 'exact')
    assert [s for s, _ in heun] == [2, 3, 4] and [n for _, n in heun] == [2 * s - 1 for s, _ in heun]   # Heun: 2 evaluations per step, Euler on the last
    assert (tmp_path / 'coherence_vs_nfe.png').is_file() and '| sampler |' in r.stdout

def test_sampling_resume(tiny_run, tmp_path):
    "A cut benchmark resumes: rows already in rows.csv are kept, only the missing ones are measured."
    out, _ = tiny_run
    run('benchmarks/sampling.py', '--run', str(out), '--quick', '--steps', '2,3,4', '--n', '6', '--out', str(tmp_path))
    lines = open(tmp_path / 'rows.csv').read().splitlines()
    assert len(lines) == 1 + 12                                          # header + 2 samplers × 2 strategies × 3 steps
    kept = lines[:-2]; open(tmp_path / 'rows.csv', 'w').write('\n'.join(kept) + '\n')   # as if cut after 10 rows
    r = run('benchmarks/sampling.py', '--run', str(out), '--quick', '--steps', '2,3,4', '--n', '6', '--out', str(tmp_path), '--resume')
    assert 'resuming: 10 of 12 rows' in r.stdout
    assert sum(1 for l in r.stdout.splitlines() if 'ms/sample' in l) == 2       # only the two missing rows were run
    rows = list(csv.DictReader(open(tmp_path / 'sampling.csv')))
    assert len(rows) == 12 and open(tmp_path / 'rows.csv').read().splitlines()[:11] == kept
    r = run('benchmarks/sampling.py', '--run', str(out), '--quick', '--steps', '2,3,4', '--n', '5', '--out', str(tmp_path), '--resume')
    assert 'resuming: 0 of 12 rows' in r.stdout                          # another --n: nothing is reused

def test_checkpoint_coherence(tmp_path):
    """The quick checkpoint check on the shipped demo weights: joint coherence (joint guidance on), then a guidance sweep —
    one line per weight, each with all 6 ordered pairs and their mean."""
    import json
    r = run('benchmarks/checkpoint_coherence.py', 'mjdiff/assets/demo.pt', '--n', '10', '--steps', '3', '--n-joint', '20', '--joint-w', '2',
            '--strategy', 'guidance', '--w', '0,2', '--clf-epochs', '1', '--cache', str(tmp_path))
    joint, *sweep = [json.loads(l) for l in r.stdout.strip().splitlines()]
    assert joint['joint_w'] == 2 and joint['n_joint'] == 20 and 0 <= joint['joint'] <= 1
    assert all(0 < joint[f'balance_{m}'] <= 1 for m in ('digit', 'word', 'scene'))
    assert [res['w'] for res in sweep] == [0, 2] and all(res['strategy'] == 'guidance' and res['n'] == 10 for res in sweep)
    for res in sweep:
        pairs = {k: v for k, v in res.items() if '->' in k}
        assert set(pairs) == {f'{a}->{b}' for a in ('digit', 'word', 'scene') for b in ('digit', 'word', 'scene') if a != b}
        assert all(0 <= v <= 1 for v in pairs.values())
        assert abs(res['mean_conditional'] - sum(pairs.values()) / 6) < 2e-3
    cached = {f: f.stat().st_mtime_ns for f in tmp_path.rglob('*.pt')}
    assert cached                                                         # the evaluation classifiers were cached
    # --also: the same samples scored by other classifiers too — a copy of these (the same scores) and a copy whose
    # heads name the next class (other scores)
    import shutil, torch
    same, other = tmp_path / 'same', tmp_path / 'other'
    for d in (same, other): shutil.copytree(tmp_path / 'classifiers', d / 'classifiers')
    for f in (other / 'classifiers').glob('*.pt'):
        sd = torch.load(f, weights_only=True)
        sd['head.weight'], sd['head.bias'] = sd['head.weight'].roll(1, 0), sd['head.bias'].roll(1, 0)
        torch.save(sd, f)
    r = run('benchmarks/checkpoint_coherence.py', 'mjdiff/assets/demo.pt', '--n', '10', '--steps', '3', '--n-joint', '20', '--joint-w', '2',
            '--strategy', 'guidance', '--w', '0,2', '--clf-epochs', '1', '--cache', str(tmp_path), '--sample-seed', '1',
            '--also', f'{same},{other}', '--sigma-min', '1', '--joint-sigma-min', '2')
    lines = [json.loads(l) for l in r.stdout.strip().splitlines()]
    assert all(d['joint_sigma_min'] == 2 and 'sigma_min' not in d for d in lines[:3])       # guidance above σ = 2 only
    assert all(d['sigma_min'] == 1 and 'joint_sigma_min' not in d for d in lines[3:])       # and above σ = 1
    assert {f: f.stat().st_mtime_ns for f in cached} == cached                    # the same classifiers, not retrained
    assert [d['judged_by'] for d in lines] == [str(tmp_path), str(same), str(other)] * 3
    strip = lambda d: {k: v for k, v in d.items() if k not in ('seconds', 'checkpoint', 'judged_by')}
    ours, copy, rolled = lines[0::3], lines[1::3], lines[2::3]
    assert [strip(d) for d in copy] == [strip(d) for d in ours]                     # the same samples, the same scores
    assert [strip(d) for d in rolled] != [strip(d) for d in ours]                   # other classifiers, other scores
    assert [strip(d) for d in ours] != [strip(d) for d in (joint, *sweep)]          # other conditions and samples
    bad = subprocess.run([PY, 'benchmarks/checkpoint_coherence.py', 'mjdiff/assets/demo.pt', '--judge'], capture_output=True,
                         text=True, cwd=ROOT, timeout=300)
    assert bad.returncode == 2 and 'no judge is shipped' in bad.stderr
    r = run('benchmarks/checkpoint_coherence.py', 'mjdiff/assets/demo.pt', '--n', '10', '--steps', '3', '--n-joint', '0',
            '--strategy', 'guidance', '--w', '2', '--clf-epochs', '1', '--cache', str(tmp_path), '--sample-seed', '1',
            '--conditions', 'digit', '--sigma-min', '1')
    one, = [json.loads(l) for l in r.stdout.strip().splitlines()]                       # the digit's conditionals only
    assert {k: v for k, v in one.items() if '->' in k} == {k: v for k, v in lines[6].items() if k.startswith('digit->')}
    r = run('benchmarks/guidance_interval.py', 'mjdiff/assets/demo.pt', '--preset', 'demo', '--configs', '2:1:inf,2:1:5', '--n', '10',
            '--steps', '3', '--clf-epochs', '1', '--cache', str(tmp_path), '--seed', '1')
    band = [json.loads(l) for l in r.stdout.strip().splitlines()]                    # no judge on the demo: a line per config
    assert [(d['w'], d['interval'], d['n'], d['seed']) for d in band] == [(2, [1, 'inf'], 10, 1), (2, [1, 5], 10, 1)]
    assert {k: v for k, v in band[0].items() if '->' in k} == {k: round(v, 3) for k, v in one.items() if '->' in k}   # no upper end: the library's
    assert all(0 <= v <= 1 for d in band for k, v in d.items() if '->' in k)
    assert {f: f.stat().st_mtime_ns for f in cached} == cached                        # the cached classifiers, not retrained

def test_joint_guidance(tiny_run, tmp_path):
    "w = 0 and w = 2 on the tiny run: NFE (M + 1 = 4 evaluations per call with guidance), coherence and balance in range."
    out, _ = tiny_run
    r = run('benchmarks/joint_guidance.py', '--run', str(out), '--n', '8', '--w', '0,2', '--steps', '3', '--out', str(tmp_path))
    rows = list(csv.DictReader(open(tmp_path / 'joint_guidance.csv')))
    assert [float(x['w']) for x in rows] == [0.0, 2.0]
    assert [float(x['nfe']) for x in rows] == [5.0, 20.0]                   # Heun 3 steps: 5 calls; × (M + 1) with guidance
    for x in rows: assert 0 <= float(x['joint_coherence']) <= 1 and 0 <= float(x['min_class_balance']) <= 1 and float(x['fd']) >= 0
    assert '| w | NFE | joint coherence |' in r.stdout

def test_gpu_check_runs_on_the_cpu(tmp_path):
    "The prepared CUDA check (benchmarks/gpu_check.sh on a GPU machine) itself runs: here on the CPU with a small network."
    r = run('benchmarks/gpu_check.py', '--device', 'cpu', '--minutes', '0.05', '--quick', '--out', str(tmp_path))
    assert '6 passed, 0 failed' in r.stdout and '| bf16 |' in r.stdout and '| fp32 |' in r.stdout, r.stdout[-2000:]

def test_coherence_trend(tmp_path):
    "The trend script on points that lie exactly on 0.1 + 0.1·ln x: the fit, its value at 15 CPU-hours, where each target is reached, the figure."
    import math
    pts = tmp_path / 'points.csv'
    xs = [1.0, math.e, math.e ** 2]
    pts.write_text('images,cpu_hours,photo->digit,digit->photo,joint,source\n' + ''.join(
        f'{100000 * (i + 1)},{x},{0.1 + 0.1 * math.log(x)},{0.1 + 0.1 * math.log(x)},0.2,test\n' for i, x in enumerate(xs)))
    r = run('benchmarks/coherence_trend.py', '--points', str(pts), '--out', str(tmp_path / 'out'))
    rows = {l.split('|')[1].strip(): [c.strip() for c in l.split('|')[2:-1]] for l in r.stdout.splitlines() if l.startswith('| ') and '->' in l or l.startswith('| joint')}
    assert rows['photo->digit'][1] == '0.100 + 0.100·ln x' and rows['photo->digit'][2] == f'{0.1 + 0.1 * math.log(15):.2f}'
    assert rows['photo->digit'][4] == f'{math.exp(5):.0f}' and rows['digit->photo'][4] == f'{math.exp(3):.0f}'   # 0.6 at e⁵, 0.4 at e³
    assert rows['joint'][4] == 'never (no rise)'
    assert (tmp_path / 'out' / 'coherence_trend.png').is_file()

def test_inference_chunks(tmp_path):
    "The chunked-inference benchmark: one row per batch × chunk, the chunked calls give the whole batch's values."
    r = run('benchmarks/inference_chunks.py', '--checkpoint', 'mjdiff/assets/demo.pt', '--batch', '70', '--chunks', '0', '32',
            '--repeats', '1', '--out', str(tmp_path))
    rows = list(csv.DictReader(open(tmp_path / 'inference_chunks.csv')))
    assert [(x['batch'], x['chunk']) for x in rows] == [('70', 'whole'), ('70', '32')]
    assert all(float(x['max_abs_diff']) < 1e-5 for x in rows)             # against one call on the whole batch
    assert all(float(x['s_per_call']) > 0 for x in rows) and '| batch | chunk |' in r.stdout
    assert (tmp_path / 'inference_chunks.md').read_text().count('\n| 70 |') == 2

def test_occlusion_probe(tmp_path):
    "The occlusion probe on the demo weights: a row per level, probes in [0, 1], clean digits read far above chance."
    r = run('benchmarks/occlusion_probe.py', '--levels', '0', '0.5', '--n', '150', '--out', str(tmp_path))
    rows = list(csv.DictReader(open(tmp_path / 'occlusion_probe.csv')))
    assert [float(x['level']) for x in rows] == [0.0, 0.5] and set(rows[0]) == {'level', 'pixels', 'bottleneck', 'bottleneck_mean'}
    assert all(0 <= float(x[k]) <= 1 for x in rows for k in ('pixels', 'bottleneck', 'bottleneck_mean'))
    assert float(rows[0]['bottleneck']) > 0.5 and float(rows[0]['pixels']) > float(rows[1]['pixels'])
    assert '| occluded fraction | pixels |' in r.stdout
