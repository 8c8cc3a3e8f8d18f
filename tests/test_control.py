"The latent-space control study (`mjdiff control`): joint vs single-modality runs paired by seed, compared in a report."
import json, shutil
import pytest
from conftest import run_cli, run_main

@pytest.fixture(scope='module')
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp('control') / 'study'
    r = run_cli('control', '--preset', 'tiny', '--seeds', '0,1', '--out', str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    return out, r

def test_every_run_trained_in_its_mode_and_seed(study):
    out, _ = study
    runs = json.loads((out / 'control_runs.json').read_text())['runs']
    assert {(r['mode'], r['seed']) for r in runs} == {('per_modality', 0), ('per_modality', 1), ('single', 0), ('single', 1)}
    for r in runs:
        cfg = json.loads((out / r['run'] / 'run_config.json').read_text())
        assert (cfg['sigma_mode'], cfg['seed']) == (r['mode'], r['seed'])
        assert (out / r['run'] / 'metrics_latent_space.json').is_file()
        assert not (out / r['run'] / 'joint_sampling.ipynb').exists()            # only train + latent_space

def test_comparison_and_report(study):
    out, r = study
    from mjdiff.latent import verdict
    m = json.loads((out / 'metrics.json').read_text())['latent_control']
    assert m['seeds'] == [0, 1] and m['primary'].startswith('alignment')
    p = m['primary']; prim = m['comparisons'][p]
    runs = {x['run']: x for x in m['runs']}
    for name, cmp in m['comparisons'].items():                       # differences paired by seed, read from each run
        want = [runs[f'per_modality_seed{s}'][name] - runs[f'single_seed{s}'][name] for s in (0, 1)]
        assert cmp['diffs'] == pytest.approx(want, abs=1e-12), name
        assert cmp['verdict'] == verdict(cmp, m['min_effect']), name
    lat = json.loads((out / 'per_modality_seed1' / 'metrics_latent_space.json').read_text())
    assert runs['per_modality_seed1'][p] == pytest.approx(sum(v['top1'] for v in lat['retrieval'].values()) / len(lat['retrieval']))
    assert m['verdict'] == prim['verdict']
    assert {'probe joint', 'probe bottleneck:digit', 'probe scene'} <= set(m['comparisons'])
    html = (out / 'report.html').read_text()
    assert "The paper's latent-space claim" in html and f"Result: {m['verdict']}" in html and 'Joint coherence' not in html
    assert (out / 'figures' / 'latent_control_comparison.png').is_file()
    assert json.loads(r.stdout[r.stdout.index('\n{') + 1:])['verdict'] == m['verdict']

def test_results_data(study, tmp_path, monkeypatch):
    out, _ = study                                                    # the results page's file, read from the study
    from pathlib import Path
    monkeypatch.syspath_prepend(str(Path(__file__).parent.parent / 'tools')); import control_data
    d = control_data.main(['t', str(out), '--what', 'w', '--command', 'c', '--machine', 'm', '--out', str(tmp_path / 't.json')])
    m = json.loads((out / 'metrics.json').read_text())['latent_control']
    assert json.loads((tmp_path / 't.json').read_text()) == d
    assert (d['seeds'], d['verdict'], d['joint_mode'], d['encoder']) == ([0, 1], m['verdict'], 'per_modality', None)
    rc = json.loads((out / 'single_seed0' / 'run_config.json').read_text())
    assert (d['steps'], d['batch_size'], d['heldout_examples']) == (rc['steps'], rc['batch_size'], rc['latent_n'])
    for name, cmp in m['comparisons'].items():
        assert d['comparisons'][name]['diff_mean'] == pytest.approx(cmp['diff_mean'], abs=5e-5), name
    assert [r['run'] for r in d['per_run']] == [r['run'] for r in m['runs']] and 'dir' not in d['per_run'][0]

def test_rerun_keeps_finished_runs(study):
    out, _ = study
    rc = out / 'single_seed1' / 'run_config.json'                     # a run made before a parameter existed: its default
    cfg = json.loads(rc.read_text()); assert cfg.pop('joint_guidance') == 0.0 and cfg.pop('lr_decay') == 0
    rc.write_text(json.dumps(cfg))
    r = run_cli('control', '--preset', 'tiny', '--seeds', '0,1', '--out', str(out))
    assert r.returncode == 0 and r.stdout.count('done already, kept') == 4, r.stdout[-2000:]

def test_single_runs_from_before_the_loss_fix_are_refused(study, tmp_path):
    out = tmp_path / 'old'; shutil.copytree(study[0], out)
    made = out / 'control_runs.json'; rec = json.loads(made.read_text())
    assert rec.pop('single_loss') == 'the modality shown'                 # written by today's study, read back
    made.write_text(json.dumps(rec))                                      # as a study before 2026-12-06 left it
    for seeds in ('0,1', '5,6'):                                          # old runs of other seeds too
        r = run_main('control', '--preset', 'tiny', '--seeds', seeds, '--out', str(out))
        assert r.returncode == 2 and 'may count the absent modalities' in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and json.loads(made.read_text()) == rec   # nothing rewritten
        assert not (out / 'single_seed5').exists()

def test_rerun_with_other_parameters_is_refused(study):
    out, _ = study
    r = run_cli('control', '--preset', 'tiny', '--seeds', '0,1', '--out', str(out), '--param', 'steps=5')
    assert r.returncode == 2 and 'was made with other parameters (steps=4, now 5)' in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1

@pytest.mark.parametrize('args, needle', [
    (['--seeds', '0'], 'at least 2 distinct seeds'),
    (['--seeds', '1,1'], 'at least 2 distinct seeds'),
    (['--seeds', 'a,b'], '--seeds expects comma-separated integers'),
    (['--param', 'seed=3'], 'use --seeds'),
    (['--param', 'sigma_mode=single'], "compares a joint σ mode with 'single'"),
    (['--param', 'init_from=pretrained'], 'trains from scratch'),
    (['--param', 'joint_guidance=1'], "needs sigma_mode='per_modality', not 'single'"),     # the single arm, refused before any run
    (['--param', 'sigma_mode'], 'KEY=VALUE'),
])
def test_bad_study_parameters(args, needle, tmp_path):
    r = run_main('control', '--preset', 'tiny', '--out', str(tmp_path / 'x'), *args)
    assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / 'x' / 'control_runs.json').exists()

def test_refuses_a_reproduce_run_directory(tiny_run):
    out, _ = tiny_run
    r = run_main('control', '--preset', 'tiny', '--out', str(out))
    assert r.returncode == 2 and 'holds a `mjdiff reproduce` run' in r.stderr, r.stderr
