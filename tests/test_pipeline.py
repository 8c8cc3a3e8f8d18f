"End to end: `mjdiff reproduce --preset tiny` runs all four papermill stages; bad input gives one-line errors."
import json
from pathlib import Path
import pytest, torch
from conftest import run_cli, run_main
from mjdiff.stages import STAGES

def test_all_stages_write_their_outputs(tiny_run):
    out, r = tiny_run
    for s in STAGES:
        assert (out / f'{s}.ipynb').is_file(), s
        assert (out / f'metrics_{s}.json').is_file(), s
    m = json.loads((out / 'metrics.json').read_text())
    assert 0.0 <= m['joint_coherence'] <= 1.0
    js = m['joint_sampling']
    assert js['joint_guidance'] == 1.0 and set(js['class_balance']) == {'digit', 'word', 'scene'}
    assert all(0.0 <= v <= 1.0 for v in js['class_balance'].values())
    pairs = {f'{a}->{b}' for a in ['digit', 'word', 'scene'] for b in ['digit', 'word', 'scene'] if a != b}
    assert set(m['conditional_coherence']) == pairs
    assert all(0.0 <= v <= 1.0 for v in m['conditional_coherence'].values())
    assert m['train']['steps'] == 4
    from mjdiff.train_config import resolve_precision                       # the preset's 'auto', as trained on this CPU
    assert m['train']['precision'] == resolve_precision('auto', 'cpu') and m['train']['precision'] in ('bf16', 'fp32')
    html = (out / 'report.html').read_text()
    assert 'Joint coherence' in html and html.count('data:image/png;base64') >= 5
    figs = {p.stem for p in (out / 'figures').glob('*.png')}
    assert {'train_loss', 'joint_sampling_grid', 'cross_modal_coherence'} <= figs
    assert json.loads((out / 'run_config.json').read_text())['preset'] == 'tiny'
    cm = json.loads((out / 'metrics_cross_modal.json').read_text())            # robustness with the calibrated and masked strategies
    cal = json.loads((out / 'calibration.json').read_text())
    assert cal == cm['calibration'] and set(cal) == {'digit', 'word'} and cal['digit']['occlusion']['level'] == 0.5
    assert [s for s, _ in cal['word']['typos']['curve']] == [0.0, 0.25, 0.5, 1.0] and cal['word']['typos']['sigma'] in (0.0, 0.25, 0.5, 1.0)
    rows = {(c['corruption'], c['strategy']) for c in cm['robustness_curves']}
    assert {('typos', 'calibrated'), ('occlusion', 'calibrated'), ('noise', 'calibrated'), ('occlusion', 'masked')} <= rows
    assert not {('noise', 'masked'), ('typos', 'masked')} & rows                # masked needs a mask: occlusion only

def test_rerun_resumes_and_continues(tiny_run, tmp_path):
    out, _ = tiny_run
    r = run_cli('reproduce', '--preset', 'tiny', '--out', str(out), '--param', 'steps=6', '--stages', 'train')
    assert r.returncode == 0, r.stderr[-2000:]
    ck = torch.load(out / 'checkpoints' / 'last.pt', weights_only=True)
    assert ck['step'] == 6
    log = (out / 'train_log.csv').read_text().splitlines()
    assert log[0].startswith('step') and int(log[-1].split(',')[0]) == 6

@pytest.mark.parametrize('args, needle', [
    (['--param', 'stepz=3'], "unknown parameter 'stepz'"),
    (['--param', 'steps=many'], "parameter 'steps' expects an integer"),
    (['--param', 'strategy=magic'], 'strategy'),
    (['--param', 'sampler=magic'], "parameter sampler='magic' is not one of"),
    (['--param', 'steps'], 'KEY=VALUE'),
    (['--param', 'joint_guidance=-1'], 'must be ≥ 0'),
    (['--param', 'lr_decay=-5'], 'parameter lr_decay must be ≥ 0'),
    (['--param', 'sigma_mode=shared', '--param', 'joint_guidance=1'], "joint_guidance=1.0 needs sigma_mode='per_modality'"),
    (['--stages', 'train,fly'], "unknown stage 'fly'"),
    (['--param', 'init_from=no/such.pt'], 'init_from checkpoint not found'),
])
def test_bad_parameters_fail_fast_with_one_line(args, needle, tmp_path):
    r = run_main('reproduce', '--preset', 'tiny', '--out', str(tmp_path / 'x'), *args)
    assert r.returncode == 2
    err = r.stderr.strip()
    assert needle in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / 'x' / 'train.ipynb').exists()          # nothing ran

def test_relative_init_from_is_read_from_where_you_run(tiny_run, tmp_path):
    "The stages execute inside the run directory; a relative `init_from` still names the file from the caller's directory."
    import shutil
    shutil.copy(tiny_run[0] / 'checkpoints' / 'last.pt', tmp_path / 'start.pt')
    r = run_cli('reproduce', '--preset', 'tiny', '--out', 'ft', '--param', 'init_from=start.pt', '--param', 'steps=2', '--stages', 'train', cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((tmp_path / 'ft' / 'run_config.json').read_text())['init_from'] == str(tmp_path / 'start.pt')
    assert torch.load(tmp_path / 'ft' / 'checkpoints' / 'last.pt', weights_only=True)['step'] == 2

def test_preset_init_from_is_resolved_for_the_stages(tmp_path, monkeypatch):
    "`demo_pretrain2` names its start checkpoint relative to the repository root; the stages receive it absolute."
    import mjdiff.pipeline as P
    from mjdiff.pipeline import reproduce
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(P, 'run_stage', lambda *a, **k: None)         # only what reproduce records before the stages
    reproduce('demo_pretrain2', 'x', stages=('joint_sampling',))
    monkeypatch.undo(); monkeypatch.chdir(tmp_path)
    cfg = json.loads((tmp_path / 'x' / 'run_config.json').read_text())
    assert cfg['init_from'] == cfg['overrides']['init_from'] == str(tmp_path / 'outputs' / 'demo_pretrain' / 'checkpoints' / 'last.pt')
    with pytest.raises(FileNotFoundError, match='init_from checkpoint not found'): reproduce('demo_pretrain2', 'y', stages=('train',))
    assert not (tmp_path / 'y' / 'train.ipynb').exists()

def test_unknown_preset(tmp_path):
    r = run_main('reproduce', '--preset', 'nope', '--out', str(tmp_path / 'x'))
    assert r.returncode == 2 and "unknown preset 'nope'" in r.stderr

def test_corrupt_checkpoint_stops_with_the_stage_named(tiny_run, tmp_path):
    import shutil
    out = tmp_path / 'broken'; shutil.copytree(tiny_run[0], out)
    (out / 'checkpoints' / 'last.pt').write_bytes(b'garbage')
    r = run_cli('reproduce', '--preset', 'tiny', '--out', str(out), '--stages', 'joint_sampling')
    assert r.returncode == 2
    assert "stage 'joint_sampling' failed" in r.stderr and 'is not an mjdiff checkpoint' in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr

def test_kept_cifar_weights_are_ema_of_their_method():
    """The two CIFAR-10 × MNIST weight files in mjdiff/assets: EMA-only exports (no optimizer state), within the 20 MB budget,
    loadable, each of its method — ours per-modality σ, the paper's long run (kept so that it survives a lost machine) shared σ."""
    import torch
    from mjdiff.checkpoint import load_model, pretrained_path
    for name, mode in (('cifar10_mnist', 'per_modality'), ('cifar10_mnist_paper', 'shared')):
        p = pretrained_path(name)
        assert p.stat().st_size < 20e6, p
        ck = torch.load(p, weights_only=True, map_location='cpu')
        assert ck['config']['train']['sigma_mode'] == mode and ck['step'] > 0 and 'optimizer' not in ck, (name, ck.keys())
        D = load_model(p)
        assert D.layout.names == ['photo', 'digit'] and D.layout.size == 32


def test_every_sampler_with_every_strategy(tiny_run):
    "Each sampler × strategy, chosen by the pipeline's string parameters as papermill passes them, samples the tiny model (masked: with and without a mask input)."
    import torch
    from mjdiff.stages import sampling_kwargs
    from mjdiff.presets import resolve_config
    from mjdiff.sampling import SAMPLERS
    from mjdiff.conditioning import STRATEGIES, conditional_sample
    from mjdiff.checkpoint import load_model
    out, _ = tiny_run
    from dataclasses import asdict
    from mjdiff.networks import UNetConfig, grow_mask_input
    from mjdiff.checkpoint import build_model
    D = load_model(out / 'checkpoints' / 'last.pt'); lay = D.layout
    A = lay.names[0]; cond = torch.rand(2, lay[A].channels, lay.size, lay.size) * 2 - 1
    Dm = build_model(lay, UNetConfig(**{**asdict(D.net.cfg), 'mask_input': True}), D.noise).eval()      # the same net, with a mask input
    Dm.load_state_dict(grow_mask_input(D.state_dict(), Dm.net))
    with torch.no_grad(): Dm.net.conv_in.weight[:, lay.channels:].normal_(0, 0.1, generator=torch.Generator().manual_seed(1))
    for s in SAMPLERS:
        for st in STRATEGIES:
            cfg = resolve_config('tiny', {'sampler': s, 'strategy': st, 'guidance': '1.5'})
            with torch.no_grad():
                x = conditional_sample(D, {A: cond}, **sampling_kwargs(cfg), generator=torch.Generator().manual_seed(0))
            assert x.shape == (2, lay.channels, lay.size, lay.size) and torch.isfinite(x).all(), (s, st)
            if st in ('exact', 'guidance'): assert torch.equal(lay.split(x)[A], cond), (s, st)   # the condition is held at σ = 0
            if st in ('exact', 'guidance'):                 # a renoised condition (calibrated) and a partly observed one (masked)
                with torch.no_grad():
                    xr = conditional_sample(D, {A: cond}, **sampling_kwargs(cfg), renoise={A: 0.5}, noise_levels={A: 'auto'}, generator=torch.Generator().manual_seed(0))
                    seen = torch.zeros(1, 1, lay.size, lay.size, dtype=torch.bool); seen[..., : lay.size // 2, :] = True
                    xm = conditional_sample(D, {A: cond}, **sampling_kwargs(cfg), masks={A: seen}, generator=torch.Generator().manual_seed(0))
                assert torch.isfinite(xr).all() and not torch.equal(lay.split(xr)[A], cond), (s, st)
                assert torch.isfinite(xm).all() and torch.equal(lay.split(xm)[A][..., : lay.size // 2, :], cond[..., : lay.size // 2, :]), (s, st)
                with torch.no_grad():                       # masked exactly, through the network's map of observed pixels
                    xk = conditional_sample(Dm, {A: cond}, **sampling_kwargs(cfg), masks={A: seen}, generator=torch.Generator().manual_seed(0))
                assert torch.isfinite(xk).all() and torch.equal(lay.split(xk)[A][..., : lay.size // 2, :], cond[..., : lay.size // 2, :]), (s, st)
                assert not torch.equal(xk, xm), (s, st)
