"`mjdiff sample` on the shipped demo weights: joint samples, samples given a PNG of a digit, one-line errors."
import numpy as np, torch
from PIL import Image
from conftest import run_cli, run_main
from mjdiff.data import demo_sets

def test_sample_from_a_png_of_a_digit(tmp_path):
    held = demo_sets('heldout', 10, 0)['digit']
    Image.fromarray(held.images[list(held.labels).index(7)][0]).save(tmp_path / 'seven.png')
    r = run_cli('sample', 'pretrained', '--given', f'digit={tmp_path / "seven.png"}', '--strategy', 'guidance', '--w', '2',
                '--steps', '4', '--n', '3', '--out', str(tmp_path / 'grid.png'), '--save', str(tmp_path / 's.pt'), '--no-progress')
    assert r.returncode == 0, r.stderr[-2000:]
    s = torch.load(tmp_path / 's.pt', weights_only=True)
    assert s['x'].shape == (3, 5, 32, 32) and s['settings']['strategy'] == 'guidance'
    want = torch.as_tensor(np.array(Image.open(tmp_path / 'seven.png'))).float() / 127.5 - 1
    assert torch.allclose(s['x'][:, 0], want.expand(3, 32, 32))                     # the condition is held exactly
    assert Image.open(tmp_path / 'grid.png').size[0] > 100

def test_joint_samples_and_errors(tmp_path):
    r = run_cli('sample', 'pretrained', '--n', '2', '--steps', '3', '--w', '1', '--out', str(tmp_path / 'j.png'), '--no-progress')
    assert r.returncode == 0 and (tmp_path / 'j.png').is_file(), r.stderr[-2000:]
    (tmp_path / 'bad.png').write_bytes(b'not an image')
    for args, words in [(['--given', 'photo=x.png'], "unknown modality 'photo'"), (['--given', f'digit={tmp_path / "bad.png"}'], 'cannot read image'),
                        (['--given', 'digit'], 'MODALITY=IMAGE'), (['--strategy', 'guidance'], 'joint samples take none'), (['--n', '0'], '--n must be')]:
        r = run_main('sample', 'pretrained', '--out', str(tmp_path / 'e.png'), '--no-progress', *args)
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
    r = run_main('sample', str(tmp_path / 'bad.png'), '--out', str(tmp_path / 'e.png'))
    assert r.returncode == 2 and 'not an mjdiff checkpoint' in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
