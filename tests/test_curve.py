"The learning curve in the training stage (rows written, training unchanged with it on) and the sample-efficiency study."
import json
from pathlib import Path
import numpy as np, pytest, torch
from conftest import run_cli, run_main
from mjdiff.stages import run_dataset, run_curve
from mjdiff.presets import resolve_config
from mjdiff.training import train, load_checkpoint, read_log
from mjdiff.checkpoint import build_model
from mjdiff.evaluation import read_curve

def test_curve_rows_and_training_unchanged(tmp_path):
    cfg = resolve_config('tiny', {'steps': '6', 'eval_every': '2', 'ckpt_every': '3', 'log_every': '2'})
    data = run_dataset(cfg, 'train')
    torch.manual_seed(0); init = build_model(data.layout, cfg.unet()).state_dict()
    ck = {}
    for name, curve in [('off', None), ('on', run_curve(cfg, tmp_path / 'on', verbose=False))]:
        D = build_model(data.layout, cfg.unet()); D.load_state_dict(init)
        train(D, data, cfg.train_config(), tmp_path / name, progress=False, evaluate=curve)
        ck[name] = load_checkpoint(tmp_path / name / 'checkpoints' / 'last.pt')
    for part in ('model', 'ema'):
        for k, v in ck['off'][part].items(): assert torch.equal(v, ck['on'][part][k]), (part, k)
    assert not (tmp_path / 'off' / 'curve.csv').exists()
    c = read_curve(tmp_path / 'on' / 'curve.csv')
    assert list(c['step']) == [0, 2, 4, 6] and list(c['images']) == [0, 32, 64, 96]
    assert (np.diff(c['train_seconds']) > 0).all() and (c['eval_seconds'] > 0).all()
    pairs = {f'{a}->{b}' for a in ('digit', 'word', 'scene') for b in ('digit', 'word', 'scene') if a != b}
    assert {f'info_{p}' for p in pairs} | {f'coh_{p}' for p in pairs} | {f'coh_{p}_w' for p in pairs} | {'joint', 'joint_w'} <= set(c)
    assert all(abs(c[f'info_{p}'][0]) < 1e-6 for p in pairs)          # untrained network: its output ignores the partner
    assert all(0 <= c[f'probe_{m}'][-1] <= 1 for m in ('digit', 'word', 'scene'))   # the class read from the bottleneck, per modality
    la, lb = read_log(tmp_path / 'off' / 'train_log.csv'), read_log(tmp_path / 'on' / 'train_log.csv')
    assert (la['loss'] == lb['loss']).all() and list(la['step']) == [2, 4, 6]

def test_resumed_log_continues_the_running_totals(tmp_path):
    "Killed at a checkpoint inside a log window: the first row after the resume averages the same steps, and seconds keep counting."
    cfg = resolve_config('tiny', {'steps': '8', 'ckpt_every': '3', 'log_every': '4'}).train_config()
    cfg_data = resolve_config('tiny'); data = run_dataset(cfg_data, 'train')
    torch.manual_seed(0); init = build_model(data.layout, cfg_data.unet()).state_dict()
    def run(d, **kw):
        D = build_model(data.layout, cfg_data.unet()); D.load_state_dict(init); train(D, data, cfg, d, progress=False, **kw)
    run(tmp_path / 'a'); run(tmp_path / 'b', stop_after=3); run(tmp_path / 'b')          # resumed from step 3, mid-window
    la, lb = read_log(tmp_path / 'a' / 'train_log.csv'), read_log(tmp_path / 'b' / 'train_log.csv')
    assert list(lb['step']) == [4, 8] and (la['loss'] == lb['loss']).all()
    assert lb['seconds'][0] > 0 and (np.diff(lb['seconds']) > 0).all()
    assert load_checkpoint(tmp_path / 'b' / 'checkpoints' / 'last.pt')['state']['elapsed'] >= lb['seconds'][-1] - 0.051   # logged to 0.1 s

def test_images_counted_across_a_branch_with_another_batch(tmp_path):
    "A branch of a run's exact state trained on with another batch size: the curve counts the images seen, not steps × batch."
    import shutil
    from mjdiff.checkpoint import export_weights
    from mjdiff.studies import study_table
    cfg = resolve_config('tiny', {'steps': '4', 'eval_every': '2', 'ckpt_every': '2', 'log_every': '2'})
    data = run_dataset(cfg, 'train'); b = cfg.batch_size
    torch.manual_seed(0); D = build_model(data.layout, cfg.unet())
    train(D, data, cfg.train_config(), tmp_path / 'trunk', progress=False)
    old = load_checkpoint(tmp_path / 'trunk' / 'checkpoints' / 'last.pt'); del old['state']['images']
    torch.save(old, tmp_path / 'trunk_old.pt')                                   # as written before the total was kept
    arm = resolve_config('tiny', {'steps': '8', 'eval_every': '2', 'batch_size': str(2 * b)})
    for name, src in (('arm', tmp_path / 'trunk' / 'checkpoints' / 'last.pt'), ('arm_old', tmp_path / 'trunk_old.pt')):
        (tmp_path / name / 'checkpoints').mkdir(parents=True); shutil.copy(src, tmp_path / name / 'checkpoints' / 'last.pt')
        train(build_model(data.layout, arm.unet()), data, arm.train_config(), tmp_path / name, progress=False,
              evaluate=run_curve(arm, tmp_path / name, verbose=False))
        assert list(read_curve(tmp_path / name / 'curve.csv')['images']) == [4 * b, 8 * b, 12 * b], name   # not steps × batch: 8, 12, 16 × b
        ck = load_checkpoint(tmp_path / name / 'checkpoints' / 'last.pt')
        assert ck['state']['images'] == 12 * b and export_weights(ck)['state']['images'] == 12 * b    # kept for a lost run too
    c, row = read_curve(tmp_path / 'arm' / 'curve.csv'), study_table(tmp_path, {'arm': {}})[0]
    assert row['probe_digit'] == c['probe_digit'][-1]
    assert row['eval_share'] == pytest.approx(c['eval_seconds'].sum() / (c['train_seconds'][-1] - c['train_seconds'][0]))   # the arm's own training

def test_study_keeps_finished_arms_and_refuses_mismatches(tmp_path):
    out = tmp_path / 'S'
    args = ['study', '--preset', 'tiny', '--out', str(out), '--images', '64', '--eval-images', '32', '--arm', 'b16', '--arm', 'b8:batch_size=8']
    r = run_cli(*args, '--parallel', '2')                                              # both arms at once, a process each
    assert r.returncode == 0 and r.stdout.count('in its own process') == 2, r.stdout[-2000:] + r.stderr[-2000:]
    assert (out / 'b8.log').is_file() and 'train done' in (out / 'b8.log').read_text()
    rows = (out / 'study.md').read_text().splitlines()
    assert len(rows) == 4 and {'b16', 'b8'} <= {row.split('|')[1].strip() for row in rows[2:]}
    for arm, steps in (('b16', 4), ('b8', 8)):
        assert load_checkpoint(out / arm / 'checkpoints' / 'last.pt')['step'] == steps
        assert list(read_curve(out / arm / 'curve.csv')['images']) == [0, 32, 64]       # measured at equal images
    assert (out / 'figures' / 'study_curves.png').is_file()
    from mjdiff.studies import study_table
    first = study_table(out, {'b16': {}}, images=0)[0]                                 # an arm at its first point only
    assert first['images'] == 0 and np.isnan(first['eval_share'])                        # no training yet: no share
    r = run_main(*args)
    assert r.returncode == 0 and r.stdout.count('already, kept') == 2, r.stdout[-2000:]
    r = run_cli(*args[:-4], '--images', '96', '--arm', 'b16')                            # the next round: b16 on to more images
    assert r.returncode == 0 and load_checkpoint(out / 'b16' / 'checkpoints' / 'last.pt')['step'] == 6, r.stderr[-2000:]
    r = run_main(*args, '--param', 'lr=0.01')
    assert r.returncode == 2 and 'was made with other parameters (lr=' in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr

def test_parallel_study_reports_a_failed_arm_in_one_line(tmp_path):
    "An arm that fails in its own process: the others finish and are tabled, the study stops with one line naming the arm's log."
    out = tmp_path / 'S'
    r = run_main('study', '--preset', 'tiny', '--out', str(out), '--images', '16', '--eval-images', '16', '--parallel', '2',
                 '--arm', 'ok', '--arm', 'bad:init_from=/no/such/weights.pt')
    assert r.returncode == 2 and "study arm(s) bad failed" in r.stderr and 'bad.log' in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert 'init_from checkpoint not found' in (out / 'bad.log').read_text()
    assert load_checkpoint(out / 'ok' / 'checkpoints' / 'last.pt')['step'] == 1 and 'ok' in (out / 'study.md').read_text()

@pytest.mark.parametrize('parallel', [1, 2])
def test_sigterm_stops_a_study_with_checkpoints(parallel, tmp_path):
    "A SIGTERM to `mjdiff study` reaches the arms it trains: each stops with a checkpoint, none is left running, no other starts, the table is written, one line says so."
    import os, signal, subprocess, time
    from conftest import BIN
    out, started = tmp_path / 'S', 'ab'[:parallel]
    args = [str(BIN / 'mjdiff'), 'study', '--preset', 'tiny', '--out', str(out), '--images', '1600000', '--eval-images', '1600000',
            '--parallel', str(parallel), '--param', 'log_every=1', '--arm', 'a', '--arm', 'b:lr=0.001', '--arm', 'c:lr=0.002']
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': '1'})
    logs, t0 = [out / a / 'train_log.csv' for a in started], time.time()
    while not all(f.exists() and len(f.read_text().splitlines()) > 3 for f in logs) and time.time() - t0 < 600 and p.poll() is None:
        time.sleep(0.2)
    arm_logs = lambda: ''.join(f'\n--- {f.name}: ' + f.read_text()[-1500:] for f in sorted(out.glob('*.log')))   # what each arm said
    assert p.poll() is None, f'the study ended before it was stopped: {p.communicate()}' + arm_logs()
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 128 + signal.SIGTERM and len(err.strip().splitlines()) == 1 and 'study stopped by SIGTERM' in err, err[-2000:] + arm_logs()
    assert all((out / a / 'checkpoints' / 'last.pt').exists() for a in started), arm_logs()
    steps = {a: load_checkpoint(out / a / 'checkpoints' / 'last.pt')['step'] for a in started}
    assert all(s > 2 for s in steps.values()) and not (out / 'c').exists() and (parallel == 2 or not (out / 'b').exists()), steps
    assert {r.split('|')[1].strip() for r in (out / 'study.md').read_text().splitlines()[2:]} == set(started)   # the table has what they reached
    if parallel == 2: assert 'training stopped by SIGTERM at step' in (out / 'a.log').read_text()
    assert subprocess.run(['pgrep', '-f', str(out)], capture_output=True).stdout == b''                    # no arm left behind

def test_study_with_aligned_arms(tmp_path):
    "Arms that align the denoiser — REPA with the cached encoder, SRA with the EMA teacher — train, resume and table like any other; the encoder's cost is in the table (the unaligned arm: every other study test)."
    out, cache = tmp_path / 'S', tmp_path / 'cache'
    r = run_main('study', '--preset', 'tiny', '--out', str(out), '--images', '32', '--eval-images', '16', '--param', f'cache_dir={cache}',
                 '--arm', 'repa:align_modality=scene,align_encoder=cached,xflip=scene',
                 '--arm', 'sra:align_modality=scene,align_with=ema,align_stage=down1,align_teacher_stage=up2')
    assert r.returncode == 0, r.stderr[-2000:]
    for arm in ('repa', 'sra'):
        ck = load_checkpoint(out / arm / 'checkpoints' / 'last.pt')
        assert 'align_head' in ck and ck['config']['train']['align_modality'] == 'scene'
    rows = {row['arm']: row for row in __import__('mjdiff.studies', fromlist=['x']).study_table(out, {'repa': {}, 'sra': {}})}
    assert set(rows) == {'repa', 'sra'} and rows['sra']['encoder_cpu_hours'] == 0
    assert rows['repa']['encoder_cpu_hours'] > 0 and rows['repa']['cpu_hours_total'] > rows['repa']['cpu_hours']
    assert len(list((cache / 'align').glob('demo-scene-*.pt'))) == 1                   # trained once, in the cache
    import sys; sys.path.insert(0, str(Path(__file__).parent.parent / 'tools')); import study_data      # the results page's data
    d = study_data.main(['t', str(out), '--what', 'w', '--command', 'c', '--machine', 'm', '--out', str(tmp_path / 't.json')])
    assert json.loads((tmp_path / 't.json').read_text())['curves'] == d['curves'] and set(d['curves']) == {'repa', 'sra'}
    h = d['columns'].index('cpu_hours')
    assert d['curves']['repa'][-1][-1] == round(d['curves']['repa'][-1][h] + d['encoder']['cpu_seconds'] / 3600, 4) > d['curves']['repa'][-1][h]
    assert d['curves']['sra'][-1][-1] == d['curves']['sra'][-1][h] and 0 <= d['encoder']['heldout_accuracy'] <= 1   # SRA: no encoder to count
