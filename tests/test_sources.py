"""Real-data tests of `mjdiff.sources` on the shared CIFAR-10 JPEGs and MNIST t10k files (read in place, never copied).

Skipped when the data root (`$MJDIFF_DATA`, else `../shared/data` from the cwd or the repo root) is absent.
Decoded CIFAR-10 goes into the module's temporary cache (decoded once, memory-mapped after).
"""
import time

import numpy as np
import pytest
from PIL import Image

from mjdiff.data import PairedDataset
from mjdiff.sources import (CIFAR10_CLASSES, DIGIT_CLASSES, SourceNotFound, cifar10_mnist_layout, cifar10_mnist_sets,
                            find_data_root, image_cache_paths, image_folder, mnist_idx)


def _data_root():
    try: root = find_data_root()
    except SourceNotFound as e: return None, str(e)
    missing = [p for p in ('cifar10-jpg/test', 'cifar10-jpg/train', 'mnist/t10k-images-idx3-ubyte.gz') if not (root / p).exists()]
    return (None, f"{root} lacks {missing}") if missing else (root, '')

ROOT, WHY = _data_root()
pytestmark = pytest.mark.skipif(ROOT is None, reason=f"shared real data (../shared/data or $MJDIFF_DATA) not available: {WHY}")


@pytest.fixture(scope='module')
def cache(tmp_path_factory): return tmp_path_factory.mktemp('decode-cache')

@pytest.fixture(scope='module')
def heldout(cache):
    t0 = time.perf_counter()
    sets = cifar10_mnist_sets(ROOT, 'heldout', cache_dir=cache)
    print(f"cold heldout (10k JPEGs): {time.perf_counter() - t0:.1f}s")
    return sets


def test_cifar10_test_split_via_cache(heldout, cache):
    photo = heldout['photo']
    assert isinstance(photo.images, np.memmap)
    assert photo.images.shape == (10000, 3, 32, 32) and photo.images.dtype == np.uint8
    assert photo.classes == CIFAR10_CLASSES
    assert np.bincount(photo.labels, minlength=10).tolist() == [1000] * 10
    assert image_cache_paths(ROOT / 'cifar10-jpg/test', cache)['images'].exists()
    for i in (0, 4321, 9999):                        # the cache holds exactly what Pillow decodes, in ImageFolder order
        path = ROOT / 'cifar10-jpg/test' / CIFAR10_CLASSES[i // 1000] / f"{i % 1000:04d}.jpg"
        assert photo.labels[i] == i // 1000
        np.testing.assert_array_equal(photo.images[i], np.asarray(Image.open(path).convert('RGB')).transpose(2, 0, 1))


def test_warm_cache_is_fast(heldout, cache):
    files = image_cache_paths(ROOT / 'cifar10-jpg/test', cache)
    ino = files['images'].stat().st_ino
    t0 = time.perf_counter()
    photo = image_folder(ROOT / 'cifar10-jpg/test', cache_dir=cache, name='photo')
    dt = time.perf_counter() - t0
    print(f"warm 10k: {dt:.2f}s")
    assert files['images'].stat().st_ino == ino, "a warm load must not rebuild the cache"
    assert isinstance(photo.images, np.memmap) and dt < 3.0
    np.testing.assert_array_equal(photo.images[::997], heldout['photo'].images[::997])


def test_mnist_split_sizes(heldout):
    digit_held = heldout['digit']
    assert len(digit_held) == 2000 and digit_held.images.shape[1:] == (1, 32, 32) and digit_held.classes == DIGIT_CLASSES
    full = mnist_idx(ROOT / 'mnist/t10k-images-idx3-ubyte.gz', ROOT / 'mnist/t10k-labels-idx1-ubyte.gz')
    assert len(full) == 10000 and np.bincount(full.labels)[:2].tolist() == [980, 1135]
    assert np.array_equal(digit_held.images, full.images[8000:]) and np.array_equal(digit_held.labels, full.labels[8000:])
    assert len(full.subset(slice(0, 8000))) == 8000


def test_pairing_agrees_and_redraws(heldout):
    ds = PairedDataset(heldout, cifar10_mnist_layout(), anchor='photo')
    assert len(ds) == 10000
    assert np.array_equal(ds.sets['digit'].labels[ds.partners['digit']], ds.labels)   # digit k <-> CIFAR class k
    x, y = ds.get_batch(np.arange(0, 10000, 1000))
    assert x.shape == (10, 4, 32, 32) and -1 <= float(x.min()) and float(x.max()) <= 1
    before = ds.partners['digit'].copy()
    ds.set_epoch(1)
    assert (ds.partners['digit'] != before).mean() > 0.9
    ds.set_epoch(0)
    assert np.array_equal(ds.partners['digit'], before)
    shifted = PairedDataset(heldout, cifar10_mnist_layout(), class_map={'digit': [(k + 1) % 10 for k in range(10)]}, anchor='photo')
    assert np.array_equal(shifted.sets['digit'].labels[shifted.partners['digit']], (shifted.labels + 1) % 10)


def test_train_split_50k(cache):
    """The full training split: 50,000 JPEGs decoded once (~25 s cold on 2 shared cores), then memory-mapped."""
    t0 = time.perf_counter()
    sets = cifar10_mnist_sets(ROOT, 'train', cache_dir=cache)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = cifar10_mnist_sets(ROOT, 'train', cache_dir=cache)
    print(f"train 50k: cold {cold:.1f}s, warm {time.perf_counter() - t0:.2f}s")
    assert sets['photo'].images.shape == (50000, 3, 32, 32) and isinstance(warm['photo'].images, np.memmap)
    assert np.bincount(sets['photo'].labels, minlength=10).tolist() == [5000] * 10
    assert len(sets['digit']) == 8000
    ds = PairedDataset(warm, cifar10_mnist_layout(), anchor='photo')
    assert np.array_equal(ds.sets['digit'].labels[ds.partners['digit']], ds.labels)
