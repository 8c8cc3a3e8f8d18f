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

def test_noisy_and_masked_conditions(tmp_path):
    "`--noisy m=calibrated` renoises the condition to the level in calibration.json; `--mask` keeps the observed pixels, generates the rest."
    import json
    held = demo_sets('heldout', 10, 0)['digit']
    Image.fromarray(held.images[list(held.labels).index(3)][0]).save(tmp_path / 'three.png')
    mask = np.zeros((32, 32), np.uint8); mask[:16] = 255; Image.fromarray(mask).save(tmp_path / 'top.png')
    (tmp_path / 'cal.json').write_text(json.dumps({'digit': {'occlusion': {'sigma': 0.5, 'curve': [[0.0, 0.1], [0.5, 0.2]]}}}))
    want = torch.as_tensor(np.array(Image.open(tmp_path / 'three.png'))).float() / 127.5 - 1
    common = ('sample', 'pretrained', '--given', f'digit={tmp_path / "three.png"}', '--steps', '3', '--n', '2', '--no-progress', '--out', str(tmp_path / 'g.png'))
    r = run_cli(*common, '--noisy', 'digit=calibrated', '--calibration', str(tmp_path / 'cal.json'), '--save', str(tmp_path / 'n.pt'))
    assert r.returncode == 0, r.stderr[-2000:]
    s = torch.load(tmp_path / 'n.pt', weights_only=True)
    assert s['settings']['noisy'] == {'digit': 'calibrated'} and not torch.allclose(s['x'][:, 0], want.expand(2, 32, 32))   # refined, not held
    r = run_cli(*common, '--mask', f'digit={tmp_path / "top.png"}', '--save', str(tmp_path / 'm.pt'))
    assert r.returncode == 0, r.stderr[-2000:]
    x = torch.load(tmp_path / 'm.pt', weights_only=True)['x'][:, 0]
    assert torch.equal(x[:, :16], want[:16].expand(2, 16, 32)) and not torch.equal(x[:, 16:], want[16:].expand(2, 16, 32))
    for args, words in [(['--noisy', 'digit=loud'], 'expected auto, a noise level'), (['--noisy', 'digit=calibrated'], 'give --calibration FILE'),
                        (['--noisy', 'digit=calibrated:typos', '--calibration', str(tmp_path / 'cal.json')], "calibrates ['occlusion'] for 'digit', not 'typos'"),
                        (['--mask', f'word={tmp_path / "top.png"}'], "'word', which is not a --given modality"),
                        (['--noisy', 'digit=auto', '--noisy', 'digit=0.1'], '--noisy names a modality twice')]:
        r = run_main(*common, *args)
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
