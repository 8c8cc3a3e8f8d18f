"A run folder from elsewhere, a full disk, a signal, bad files and bad outputs: one line each, and nothing already written is lost."
import json, os, pickle, resource, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pytest, torch
from PIL import Image
from conftest import run_main, BIN
from mjdiff.io import load_checkpoint

def _one_line(r, *needles, rc=2):
    err = r.stderr.strip()
    assert r.returncode == rc and len(err.splitlines()) == 1, (r.returncode, err[-3000:])
    for n in needles: assert n in err, err
    return err

def _train(run_dir, *params, **kw):
    return run_main('train', '--run-dir', str(run_dir), '--preset', 'tiny', *[a for p in params for a in ('--param', p)], **kw)

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    "A tiny run made by `mjdiff train` (2 steps), its files as bytes to compare against."
    run = tmp_path_factory.mktemp('trained') / 'R'
    r = _train(run, 'steps=2')
    assert r.returncode == 0, r.stderr[-2000:]
    return run

def _snapshot(run): return {p.name: p.read_bytes() for p in [*run.glob('*.json'), *run.glob('checkpoints/*.pt')]}

@pytest.mark.parametrize('plant', ['symlink', 'hardlink', 'foreign'])
def test_a_planted_lock_is_refused_and_left_alone(tmp_path, plant):
    victim = tmp_path / 'victim.txt'; victim.write_text('IMPORTANT USER DATA')
    run = tmp_path / 'R'; run.mkdir()
    {'symlink': lambda: (run / '.lock').symlink_to(victim), 'hardlink': lambda: os.link(victim, run / '.lock'),
     'foreign': lambda: (run / '.lock').write_text('IMPORTANT USER DATA')}[plant]()
    r = _train(run, 'steps=1')
    err = _one_line(r, str(run / '.lock'))
    assert 'IMPORTANT' not in err + r.stdout and victim.read_text() == 'IMPORTANT USER DATA'
    assert not (run / 'checkpoints').exists()

def test_train_refuses_changed_parameters_like_reproduce(trained):
    before = _snapshot(trained)
    for p in ('lr=0.5', 'sigma_mode=shared', 'batch_size=8', 'seed=5'):
        _one_line(_train(trained, 'steps=3', p), 'was made with other parameters', p.split('=')[0], '--force')
    _one_line(run_main('reproduce', '--preset', 'tiny', '--out', str(trained), '--param', 'lr=0.5', '--stages', 'train'), 'was made with other parameters', 'lr')
    assert _snapshot(trained) == before
    rc = json.loads((trained / 'run_config.json').read_text())                     # train records what it was made with
    assert rc['preset'] == 'tiny' and rc['overrides'] == {'steps': 2} and rc['lr'] == 0.002

def test_a_folder_a_trainer_wrote_is_checked_too(trained, tmp_path):
    "A run folder with the trainer's config.json only (made before train recorded run_config.json) is checked against it."
    import shutil
    old = tmp_path / 'old'; shutil.copytree(trained, old); (old / 'run_config.json').unlink()
    _one_line(run_main('reproduce', '--preset', 'tiny', '--out', str(old), '--param', 'lr=0.5', '--stages', 'train'), 'lr=0.002, now 0.5')

@pytest.mark.parametrize('param, needle', [
    ('model_channels=3', 'model_channels must be an integer ≥ 4'), ('channel_mult=()', 'channel_mult must be a non-empty tuple'),
    ('channel_mult=((1,2),2)', 'channel_mult must be a non-empty tuple'), ('attn_resolutions=(7,)', 'no level at 7×7'),
    ('seed=-1', 'parameter seed must be ≥ 0'), ('class_map={"word": [1, 2]}', "class_map['word'] must list 10 classes"),
    ('n_per_class=100000000', 'this machine has'),
])
def test_shapes_and_sizes_are_checked_before_anything_is_written(tmp_path, param, needle):
    _one_line(run_main('reproduce', '--preset', 'tiny', '--out', str(tmp_path / 'x'), '--param', param), needle)
    assert not (tmp_path / 'x').exists()

def test_inputs_are_checked_before_anything_is_written(tmp_path):
    class Shell:
        def __reduce__(self): return (subprocess.call, (['touch', str(tmp_path / 'PWNED')],))
    with open(tmp_path / 'code.pt', 'wb') as f: pickle.dump({'model': Shell(), 'config': {}}, f)
    (tmp_path / 'empty.pt').write_bytes(b'')
    for params, needle in [(['init_from=' + str(tmp_path / 'code.pt')], 'carries code (its pickle refers to subprocess.call)'),
                           (['init_from=' + str(tmp_path / 'empty.pt')], 'is empty'),
                           (['dataset=cifar10_mnist', 'data_root=' + str(tmp_path / 'nowhere')], 'no data root found')]:
        for cmd in (['reproduce', '--preset', 'tiny', '--out', str(tmp_path / 'x')], ['train', '--preset', 'tiny', '--run-dir', str(tmp_path / 'x')]):
            _one_line(run_main(*cmd, *[a for p in params for a in ('--param', p)]), needle)
            assert not (tmp_path / 'x').exists() and not (tmp_path / 'PWNED').exists()

def test_export_checkpoint_never_writes_over_a_resume_point(trained):
    last = trained / 'checkpoints' / 'last.pt'; before = last.read_bytes()
    _one_line(run_main('export-checkpoint', str(last), str(last)), 'is the source itself')
    _one_line(run_main('export-checkpoint', str(last), str(trained / 'checkpoints' / 'prev.pt')), "a run's resume point")
    _one_line(run_main('export-checkpoint', 'last.pt', 'last.pt', cwd=trained / 'checkpoints'), 'is the source itself')      # relative paths too
    _one_line(run_main('export-checkpoint', 'last.pt', 'prev.pt', cwd=trained / 'checkpoints'), "a run's resume point")
    assert last.read_bytes() == before and 'optimizer' in load_checkpoint(last)

def test_a_full_disk_is_one_line_and_keeps_the_checkpoint(trained, tmp_path):
    "Writes past a file-size limit fail as on a full disk: one line naming the file; last.pt stays as it was."
    import shutil
    run = tmp_path / 'R'; shutil.copytree(trained, run)
    before = (run / 'checkpoints' / 'last.pt').read_bytes()
    limit = len(before) // 2
    r = subprocess.run([str(BIN / 'mjdiff'), 'train', '--run-dir', str(run), '--preset', 'tiny', '--param', 'steps=4'],
                       capture_output=True, text=True, timeout=600, env={**os.environ, 'MPLBACKEND': 'Agg'},
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    _one_line(r, f"cannot write {run / 'checkpoints' / 'last.pt'}: ", 'free there', 'the file there before is kept')
    assert (run / 'checkpoints' / 'last.pt').read_bytes() == before and not list(run.glob('checkpoints/.*.tmp'))
    r = subprocess.run([str(BIN / 'mjdiff'), 'reproduce', '--out', str(run), '--preset', 'tiny', '--param', 'steps=4', '--stages', 'train'],
                       capture_output=True, text=True, timeout=600, env={**os.environ, 'MPLBACKEND': 'Agg'},
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    _one_line(r, "stage 'train' failed: WriteFailed: cannot write", 'the file there before is kept')
    assert (run / 'checkpoints' / 'last.pt').read_bytes() == before

def test_sigterm_writes_a_final_checkpoint(trained, tmp_path):
    import shutil
    run = tmp_path / 'R'; shutil.copytree(trained, run)
    p = subprocess.Popen([str(BIN / 'mjdiff'), 'train', '--run-dir', str(run), '--preset', 'tiny', '--param', 'steps=100000', '--param', 'log_every=1'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': '1'})
    t0 = time.time()
    while len((run / 'train_log.csv').read_text().splitlines()) < 6 and time.time() - t0 < 300: time.sleep(0.2)   # a few steps past step 2
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=300)
    r = subprocess.CompletedProcess(p.args, p.returncode, '', err)
    _one_line(r, 'training stopped by SIGTERM at step', 'written; the same command resumes', rc=128 + signal.SIGTERM)
    step = int(err.split('at step ')[1].split(':')[0])
    assert step > 2 and load_checkpoint(run / 'checkpoints' / 'last.pt')['step'] == step
    p = subprocess.Popen([str(BIN / 'mjdiff'), 'reproduce', '--out', str(run), '--preset', 'tiny', '--param', 'steps=100000', '--param', 'log_every=1',
                          '--stages', 'train'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': '1'})
    t0, rows = time.time(), len((run / 'train_log.csv').read_text().splitlines())
    while len((run / 'train_log.csv').read_text().splitlines()) < rows + 4 and time.time() - t0 < 300: time.sleep(0.2)
    p.send_signal(signal.SIGTERM)                                   # to `mjdiff reproduce`: passed on to the stage's kernel
    _, err = p.communicate(timeout=300)
    _one_line(subprocess.CompletedProcess(p.args, p.returncode, '', err), "stopped by SIGTERM in stage 'train'", 'training stopped by SIGTERM at step',
              rc=128 + signal.SIGTERM)
    assert load_checkpoint(run / 'checkpoints' / 'last.pt')['step'] > step

def _digit_png(path, **kw):
    from mjdiff.data import demo_sets
    held = demo_sets('heldout', 10, 0)['digit']
    Image.fromarray(held.images[list(held.labels).index(7)][0]).save(path, **kw)
    return path

def test_sample_outputs_are_checked_before_sampling_and_never_garbage(tmp_path):
    common = ('sample', 'pretrained', '--steps', '2', '--n', '2', '--no-progress')
    for args, needle in [(['--out', str(tmp_path / 'o')], 'give the grid an image file name'), (['--out', str(tmp_path)], 'is a directory'),
                         (['--out', str(tmp_path / 'g.png'), '--save', str(tmp_path / 's.json')], 'give a file name ending in .pt'),
                         (['--out', str(tmp_path / 'g.png'), '--n', '100000000', '--save', str(tmp_path / 's.pt')], 'keeps every sample, about'),
                         (['--out', str(tmp_path / 'g.png'), '--w', '1e30', '--save', str(tmp_path / 's.pt')], 'samples are not finite (guidance weight w = 1e+30')]:
        _one_line(run_main(*common, *args), needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == []                              # nothing written, not even a partial grid

def test_sample_draws_in_bounded_chunks(tmp_path, monkeypatch):
    import mjdiff.cli as P, mjdiff.conditioning as S
    sizes, real = [], S.joint_sample
    monkeypatch.setattr(P, 'SAMPLE_BATCH', 4)
    monkeypatch.setattr(S, 'joint_sample', lambda D, n, **kw: sizes.append(n) or real(D, n, **kw))
    info = P.sample_command('pretrained', n=10, out=tmp_path / 'g.png', steps=1, save=tmp_path / 's.pt', progress=False)
    assert sizes == [4, 4, 2] and torch.load(tmp_path / 's.pt', weights_only=True)['x'].shape[0] == 10 and info['grid'] == str(tmp_path / 'g.png')

def test_image_conditions_are_read_as_meant(tmp_path):
    seven = _digit_png(tmp_path / 'seven.png')
    grey = np.full((32, 32), 32768, np.uint16); Image.fromarray(grey).save(tmp_path / 'grey16.png')
    r = run_main('sample', 'pretrained', '--given', f'digit={tmp_path / "grey16.png"}', '--steps', '1', '--n', '1', '--no-progress',
                 '--out', str(tmp_path / 'g.png'), '--save', str(tmp_path / 's.pt'))
    assert r.returncode == 0 and '16-bit, scaled to 8 bits' in r.stdout, r.stderr
    assert abs(float(torch.load(tmp_path / 's.pt', weights_only=True)['x'][0, 0].mean())) < 0.01           # mid-grey, not white
    a = np.array(Image.open(seven).convert('L')); rgba = np.zeros((32, 32, 4), np.uint8); rgba[..., 3] = a    # white ink on a transparent page
    rgba[..., :3] = 255; Image.fromarray(rgba, 'RGBA').save(tmp_path / 'alpha.png')
    mask = np.zeros((16, 16), np.uint8); mask[:8] = 255; Image.fromarray(mask).save(tmp_path / 'mask16.png')
    r = run_main('sample', 'pretrained', '--given', f'digit={tmp_path / "alpha.png"}', '--mask', f'digit={tmp_path / "mask16.png"}',
                 '--steps', '1', '--n', '1', '--no-progress', '--out', str(tmp_path / 'g.png'), '--save', str(tmp_path / 's.pt'))
    assert r.returncode == 0, r.stderr
    assert 'alpha channel composited on black' in r.stdout and 'resized to 32×32 for the mask' in r.stdout, r.stdout
    held = torch.load(tmp_path / 's.pt', weights_only=True)['x'][0, 0, :16]                 # the observed half: the digit, not its negative
    assert torch.allclose(held, (torch.as_tensor(a).float() / 127.5 - 1)[:16], atol=2 / 127.5)
    _one_line(run_main('sample', 'pretrained', '--given', f'digit={seven}', '--noisy', 'digit=1e9', '--out', str(tmp_path / 'g.png')), 'above the model')

def test_bad_files_are_one_line(tmp_path):
    seven = _digit_png(tmp_path / 'seven.png')
    (tmp_path / 'list.json').write_text('[1, 2]'); (tmp_path / 'bad.json').write_text('{nope')
    class Shell:
        def __reduce__(self): return (subprocess.call, (['touch', str(tmp_path / 'PWNED')],))
    with open(tmp_path / 'legacy.pt', 'wb') as f: pickle.dump({'model': Shell(), 'config': {}}, f)
    common = ('sample', 'pretrained', '--given', f'digit={seven}', '--noisy', 'digit=calibrated', '--out', str(tmp_path / 'g.png'))
    _one_line(run_main(*common, '--calibration', str(tmp_path / 'list.json')), f"calibration file {tmp_path / 'list.json'} is not a calibration")
    _one_line(run_main(*common, '--calibration', str(tmp_path / 'bad.json')), f"calibration file {tmp_path / 'bad.json'} is not JSON")
    _one_line(run_main(*common), 'give --calibration FILE')
    _one_line(run_main('sample', str(tmp_path), '--out', str(tmp_path / 'g.png')), 'is a directory')
    _one_line(run_main('sample', 'pretrained', '--given', f'digit={tmp_path}', '--out', str(tmp_path / 'g.png')), 'is a directory')
    _one_line(run_main('sample', str(tmp_path / 'legacy.pt'), '--out', str(tmp_path / 'g.png')), 'carries code (its pickle refers to subprocess.call)')
    assert not (tmp_path / 'PWNED').exists() and not (tmp_path / 'g.png').exists()
