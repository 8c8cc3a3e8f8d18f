"The latent-space control study (`mjdiff control`): joint vs single-modality runs paired by seed, compared in a report."
import json
import pytest
from conftest import run_cli

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
    m = json.loads((out / 'metrics.json').read_text())['latent_control']
    assert m['verdict'] in ('supported', 'not supported', 'inconclusive') and m['seeds'] == [0, 1]
    prim = m['comparisons'][m['primary']]
    assert prim['n'] == 2 and prim['ci_low'] <= prim['diff_mean'] <= prim['ci_high']
    runs = {x['run']: x for x in m['runs']}
    assert abs(prim['diff_mean'] - ((runs['per_modality_seed0'][m['primary']] + runs['per_modality_seed1'][m['primary']])
                                    - (runs['single_seed0'][m['primary']] + runs['single_seed1'][m['primary']])) / 2) < 1e-9
    assert 'probe bottleneck:digit' in m['comparisons']
    html = (out / 'report.html').read_text()
    assert "The paper's latent-space claim" in html and f"Result: {m['verdict']}" in html
    assert (out / 'figures' / 'latent_control_comparison.png').is_file()
    assert json.loads(r.stdout[r.stdout.index('\n{') + 1:])['verdict'] == m['verdict']

def test_rerun_keeps_finished_runs(study):
    out, _ = study
    r = run_cli('control', '--preset', 'tiny', '--seeds', '0,1', '--out', str(out))
    assert r.returncode == 0 and r.stdout.count('done already, kept') == 4, r.stdout[-2000:]

@pytest.mark.parametrize('args, needle', [
    (['--seeds', '0'], 'at least 2 distinct seeds'),
    (['--seeds', 'a,b'], '--seeds expects comma-separated integers'),
    (['--param', 'sigma_mode=shared'], 'set by the control study'),
    (['--param', 'sigma_mode'], 'KEY=VALUE'),
])
def test_bad_study_parameters(args, needle, tmp_path):
    r = run_cli('control', '--preset', 'tiny', '--out', str(tmp_path / 'x'), *args)
    assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / 'x' / 'control_runs.json').exists()
