"""End to end on the real files (../shared/data or $MJDIFF_DATA): the shipped CIFAR-10 × MNIST weights through the
training and cross-modal stages, on a data root of links to some of the real files (200 training and 50 held-out
photos per class, the MNIST files whole), so the stages decode real JPEGs and train the evaluation classifiers on real
photos in seconds, not minutes (decoding all 60,000 photos is `tests/test_sources.py`'s). Its own file, so that
pytest-xdist (`--dist loadfile`) can run it beside the tiny pipeline tests."""
import json
import pytest
from conftest import run_cli

def _shared_data():
    from mjdiff.sources import find_data_root
    try: return find_data_root()
    except Exception: return None

def linked_subset(root, dst, per_class: dict) -> str:
    "A data root at `dst` of links to the first `per_class[split]` photos of each class of `root`'s CIFAR-10 and to its MNIST files."
    from pathlib import Path
    root, dst = Path(root), Path(dst)
    for split, n in per_class.items():
        for cls in sorted((root / 'cifar10-jpg' / split).iterdir()):
            (dst / 'cifar10-jpg' / split / cls.name).mkdir(parents=True)
            for f in sorted(cls.iterdir())[:n]: (dst / 'cifar10-jpg' / split / cls.name / f.name).symlink_to(f)
    (dst / 'mnist').mkdir()
    for f in (root / 'mnist').glob('t10k-*'): (dst / 'mnist' / f.name).symlink_to(f)
    return str(dst)

@pytest.mark.skipif(_shared_data() is None, reason='real data (../shared/data or $MJDIFF_DATA) not available')
def test_cifar10_mnist_stages_on_real_data(tmp_path):
    "The shipped CIFAR-10 × MNIST weights fine-tune a few steps on real files (preset cifar10_mnist_pm_cpu, tiny counts), then the cross-modal stage writes every metric key."
    from mjdiff.checkpoint import load_model, pretrained_path
    data = linked_subset(_shared_data(), tmp_path / 'data', {'train': 200, 'test': 50})
    out, tiny = tmp_path / 'real', dict(steps=2, lr_decay=2, batch_size=16, sample_steps=3, n_joint=20, n_cond=10, clf_epochs=1, n_robust=8,
                                        robust_steps=2, robust_noise='(0.0, 0.5)', robust_occlusion='(0.5,)', robust_typos='(2,)',
                                        data_root=data, cache_dir=tmp_path / 'cache')
    r = run_cli('reproduce', '--preset', 'cifar10_mnist_pm_cpu', '--out', str(out), '--stages', 'train,cross_modal',
                *[a for k, v in tiny.items() for a in ('--param', f'{k}={v}')])
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    shipped, tuned = load_model(pretrained_path('cifar10_mnist')), load_model(out / 'checkpoints' / 'last.pt')
    gap = max((a - b).abs().max().item() for a, b in zip(shipped.state_dict().values(), tuned.state_dict().values()))
    assert 0 < gap < 1e-2, gap                                # trained on from the shipped weights, not from scratch
    m = json.loads((out / 'metrics_cross_modal.json').read_text())
    assert set(m['conditional_coherence']) == {'photo->digit', 'digit->photo'}
    assert set(m['frechet_distance']) == {'photo->digit', 'digit->photo'} and all(v >= 0 for v in m['frechet_distance'].values())
    assert m['robustness_auc'] and m['inception_torchvision_fd'] and set(m['kernel_distance']) == set(m['frechet_distance'])
    judged = m['conditional_coherence_judge']                 # the photos judged by the shipped judge too; the digits as before
    assert set(judged) == {'photo->digit', 'digit->photo'} and judged['photo->digit'] == m['conditional_coherence']['photo->digit']
    assert 0 <= judged['digit->photo'] <= 1
    figs = {p.stem for p in (out / 'figures').glob('*.png')}
    assert {'cross_modal_grid_digit_to_photo', 'cross_modal_grid_photo_to_digit', 'cross_modal_robustness'} <= figs
