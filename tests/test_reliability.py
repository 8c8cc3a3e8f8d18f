"Training never destroys a good checkpoint; one run per output folder; every bad input gets one clear line."
import json, os, shutil, subprocess, sys, time
from pathlib import Path
import pytest, torch
from conftest import run_cli, run_main, BIN
from mjdiff.io import CheckpointError, load_checkpoint
from mjdiff.checkpoint import load_model, build_model, export_checkpoint
from mjdiff.networks import UNetConfig
from mjdiff.data import demo_layout

def _one_line(r, *needles):
    err = r.stderr.strip()
    assert r.returncode == 2 and len(err.splitlines()) == 1, (r.returncode, err[-3000:])
    for n in needles: assert n in err, err
    return err

def _strict(path):
    "Parse JSON refusing NaN / Infinity, as strict parsers do."
    def bad(c): raise ValueError(f'non-strict JSON constant {c} in {path}')
    return json.loads(Path(path).read_text(), parse_constant=bad)

def test_diverging_run_keeps_the_last_good_checkpoint(tiny_run, tmp_path):
    out = tmp_path / 'R'; shutil.copytree(tiny_run[0], out)                              # a finished run, at step 4
    before = (out / 'checkpoints' / 'last.pt').read_bytes()
    r = run_cli('reproduce', '--preset', 'tiny', '--out', str(out), '--param', 'steps=30', '--param', 'lr=1e4', '--stages', 'train', '--force')
    _one_line(r, 'TrainingDiverged', 'non-finite steps in a row', '(step 4) is kept')
    assert (out / 'checkpoints' / 'last.pt').read_bytes() == before                     # bit for bit
    assert load_checkpoint(out / 'checkpoints' / 'last.pt')['step'] == 4
    _strict(out / 'metrics_train.json'); _strict(out / 'run_config.json')               # what was written is strict JSON
    # a run that ends inside a non-finite streak does not report success either
    r = run_cli('reproduce', '--preset', 'tiny', '--out', str(out), '--param', 'steps=7', '--param', 'lr=1e4', '--stages', 'train', '--force')
    _one_line(r, 'training ended at step 7 with non-finite weights', '(step 4) is kept')
    assert (out / 'checkpoints' / 'last.pt').read_bytes() == before

def test_two_runs_on_one_out(tmp_path):
    out = tmp_path / 'R'
    env = {**os.environ, 'MPLBACKEND': 'Agg'}
    first = subprocess.Popen([str(BIN / 'mjdiff'), 'reproduce', '--preset', 'tiny', '--out', str(out), '--param', 'steps=40',
                              '--param', 'ckpt_every=1', '--stages', 'train'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    t0 = time.time()
    while not ((out / '.lock').exists() and (out / '.lock').read_text()) and time.time() - t0 < 120: time.sleep(0.2)
    second = run_cli('reproduce', '--preset', 'tiny', '--out', str(out), '--param', 'steps=40', '--param', 'ckpt_every=1', '--stages', 'train')
    _one_line(second, 'is in use by another run (pid', 'use another --out')
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-2000:]
    steps = [int(l.split(',')[0]) for l in (out / 'train_log.csv').read_text().splitlines()[1:]]
    assert steps == sorted(set(steps)) and steps[-1] == 40                              # nothing duplicated
    assert (out / '.lock').read_text() == ''                                            # released

@pytest.mark.parametrize('param, key', [('sigma_mode=shared', 'sigma_mode'), ('model_channels=32', 'model_channels'), ('seed=3', 'seed')])
def test_changed_parameter_on_an_existing_run_is_refused(tiny_run, param, key):
    out, _ = tiny_run
    rc = (out / 'run_config.json').read_bytes(); ck = (out / 'checkpoints' / 'last.pt').read_bytes()
    r = run_main('reproduce', '--preset', 'tiny', '--out', str(out), '--param', param)
    _one_line(r, 'was made with other parameters', key, '--force')
    assert (out / 'run_config.json').read_bytes() == rc and (out / 'checkpoints' / 'last.pt').read_bytes() == ck

def test_evaluation_settings_may_change_and_are_recorded(tiny_run):
    out, _ = tiny_run
    r = run_cli('reproduce', '--preset', 'tiny', '--out', str(out), '--param', 'n_joint=8', '--param', 'joint_guidance=1',
                '--param', 'joint_guidance_sigma_min=1', '--stages', 'joint_sampling')
    assert r.returncode == 0, r.stderr[-2000:]
    rc = json.loads((out / 'run_config.json').read_text())
    assert rc['history'][-1]['changed']['n_joint'] == [20, 8] and rc['history'][-1]['stages'] == ['joint_sampling']
    assert rc['history'][-1]['changed']['joint_guidance_sigma_min'] == [0.0, 1.0]
    settings = json.loads((out / 'metrics_joint_sampling.json').read_text())['settings']
    assert settings['n_joint'] == 8 and settings['joint_guidance_sigma_min'] == 1.0

@pytest.mark.parametrize('args, needle', [
    (['--param', 'steps=2.5'], "parameter 'steps' expects an integer"),
    (['--param', 'device=bogus'], "unknown device 'bogus'"),
    (['--param', 'lr=-1'], 'parameter lr must be > 0'),
    (['--param', 'lr=nan'], 'parameter lr must be finite'),
    (['--param', 'ckpt_every=0'], 'parameter ckpt_every must be ≥ 1'),
    (['--param', 'grad_accum=0'], 'parameter grad_accum must be ≥ 1'),
    (['--param', 'class_map=notjson'], 'parameter class_map must be JSON'),
    (['--param', 'p_known=0.95'], 'p_known + p_absent'),
    (['--stages', ''], 'no stage given'),
])
def test_every_parameter_is_checked_before_any_stage(args, needle, tmp_path):
    r = run_main('reproduce', '--preset', 'tiny', '--out', str(tmp_path / 'x'), *args)
    _one_line(r, needle)
    assert not (tmp_path / 'x').exists()                                                 # nothing written

def test_checkpoint_errors_are_one_line(tmp_path, tiny_run):
    out, _ = tiny_run
    good = out / 'checkpoints' / 'last.pt'
    b = good.read_bytes(); (tmp_path / 'cut.pt').write_bytes(b[:len(b) // 2]); (tmp_path / 'zero.pt').write_bytes(b'')
    class Payload:
        def __reduce__(self): return (os.system, ('echo pwned > ' + str(tmp_path / 'PWNED'),))
    torch.save({'model': Payload(), 'config': {}}, tmp_path / 'code.pt')
    for name, words in [('cut', 'truncated or corrupt'), ('zero', 'is empty'), ('code', 'carries code')]:
        r = run_main('export-checkpoint', str(tmp_path / f'{name}.pt'), str(tmp_path / 'o.pt'))
        assert 'weights_only' not in _one_line(r, words)
        with pytest.raises(CheckpointError, match=words): load_model(tmp_path / f'{name}.pt')
    assert not (tmp_path / 'PWNED').exists() and not (tmp_path / 'o.pt').exists()
    ck = torch.load(good, weights_only=True)                                            # weights of another network: which tensor, which sizes
    D = build_model(demo_layout(), UNetConfig(model_channels=24, channel_mult=(1, 2), num_blocks=1, attn_resolutions=(), dropout=0.0))
    torch.save({**ck, 'ema': D.state_dict(), 'model': D.state_dict()}, tmp_path / 'other.pt')
    with pytest.raises(CheckpointError, match=r'does not fit this network: \d+ tensor\(s\) of other sizes \(e.g. net\.\S+ is \[\d+, \d+\] there, \[\d+, \d+\] here'): load_model(tmp_path / 'other.pt')

def test_corrupt_last_checkpoint_resumes_from_the_previous(tiny_run, tmp_path):
    out = tmp_path / 'R'; shutil.copytree(tiny_run[0], out)                              # a finished run, at step 4
    assert load_checkpoint(out / 'checkpoints' / 'prev.pt')['step'] == 2                # ckpt_every=2: the one before
    (out / 'checkpoints' / 'last.pt').write_bytes(b'garbage')
    r = run_cli('reproduce', '--preset', 'tiny', '--out', str(out), '--param', 'steps=6', '--param', 'joint_guidance=1', '--stages', 'train')
    assert r.returncode == 0, r.stderr[-2000:]
    assert load_checkpoint(out / 'checkpoints' / 'last.pt')['step'] == 6
    assert 'resuming from the previous checkpoint' in (out / 'train.ipynb').read_text()
    assert (out / 'checkpoints' / 'last.pt.corrupt').read_bytes() == b'garbage'                # moved aside: never linked over prev.pt
    assert load_checkpoint(out / 'checkpoints' / 'prev.pt')['step'] == 4

def test_denoiser_input_checks():
    from mjdiff.layout import LayoutError
    D = load_model(Path(__file__).resolve().parent.parent / 'mjdiff' / 'assets' / 'demo.pt')
    with pytest.raises(LayoutError, match=r'a flat sigma must hold 1 value or one per example \(2\), got 3'): D(torch.zeros(2, 5, 32, 32), torch.ones(3))
    with pytest.raises(LayoutError, match='expected 5 channel'): D(torch.zeros(2, 4, 32, 32), torch.ones(2, 3))

def test_a_dead_kernel_is_one_line(tmp_path):
    "A stage whose kernel dies (killed, out of memory) ends with one line naming the stage, not a traceback."
    nbs = tmp_path / 'nbs'; nbs.mkdir()
    for s in ('joint_sampling', 'cross_modal', 'latent_space', 'latent_control'): shutil.copy(Path(__file__).resolve().parent.parent / 'nbs' / 'experiments' / f'{s}.ipynb', nbs)
    nb = {'cells': [{'cell_type': 'code', 'id': 'p', 'metadata': {'tags': ['parameters']}, 'source': "run_dir = ''\npreset = ''\noverrides = {}", 'outputs': [], 'execution_count': None},
                    {'cell_type': 'code', 'id': 'k', 'metadata': {}, 'source': 'import os, signal; os.kill(os.getpid(), signal.SIGKILL)', 'outputs': [], 'execution_count': None}],
          'metadata': {'kernelspec': {'name': 'python3', 'display_name': 'python3', 'language': 'python'}}, 'nbformat': 4, 'nbformat_minor': 5}
    (nbs / 'train.ipynb').write_text(json.dumps(nb))
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'MJDIFF_NOTEBOOKS': str(nbs)}
    r = subprocess.run([str(BIN / 'mjdiff'), 'reproduce', '--preset', 'tiny', '--out', str(tmp_path / 'R'), '--stages', 'train'],
                       capture_output=True, text=True, env=env, timeout=300)
    _one_line(r, "stage 'train' failed: its kernel died")
