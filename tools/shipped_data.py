#!/usr/bin/env python3
"""The shipped CIFAR-10 × MNIST weights and their evaluation as a data file of the results page:
`nbs/results/cifar_shipped.json`.

`make reproduce PRESET=cifar10_mnist_pm_cpu` fine-tunes the shipped weights (`mjdiff/assets/cifar10_mnist.pt`) for a
few steps and evaluates them; its `metrics.json` is under `outputs/`, which is not kept. This copies what the results
page and README read — coherence with the evaluation classifiers and with the judge, class balance, Fréchet distances,
the settings — and what the weights are (their images, steps, learning-rate schedule, alignment and CPU-hours, read
from the exported file's recorded state; the alignment encoder's training from the run that made them) into one JSON
file, so that no number of it is typed.

Usage: python tools/shipped_data.py EVAL_DIR --train-run RUN_DIR --run TEXT --wall-time SECONDS --machine TEXT
                                    [--weights FILE] [--command TEXT] [--out FILE]
  EVAL_DIR     the finished `make reproduce PRESET=cifar10_mnist_pm_cpu` output (outputs/cifar10_mnist_pm_cpu)
  --train-run  the training run the weights were exported from (its run_config.json names the alignment encoder)
  --run        how that run was made (the commands), in words
  --wall-time  the reproduction's wall time in seconds (as measured around `make reproduce`, installation included)
  --what, --wall-time-includes   for the evaluation of other weights than the shipped (`--weights`, `--out`): what the
               file records, and what its wall time includes
"""
from __future__ import annotations
import argparse, datetime, json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / 'nbs' / 'results'
sys.path.insert(0, str(Path(__file__).resolve().parent))
from study_data import dumps, encoder_record, _round

# the front page's targets, and issue 32's (stricter, with a training budget)
TARGETS = {'joint_coherence': 0.40, 'digit->photo': 0.40, 'photo->digit': 0.60, 'class_balance': 0.9}
ISSUE_TARGETS = {'joint_coherence': 0.45, 'digit->photo': 0.55, 'photo->digit': 0.60, 'class_balance': 0.9,
                 'cpu_hours': 10}


def weights_record(path: Path, train_run: Path) -> dict:
    "What the exported weights are: images, steps, schedule, alignment, parameters, CPU-hours (encoder included)."
    from mjdiff.io import load_checkpoint
    ck = load_checkpoint(path)
    t, st = ck['config']['train'], ck['state']
    step, decay = ck['step'], t.get('lr_decay', 0)
    align = {k: t[k] for k in ('align_modality', 'align_with', 'align_stage', 'align_weight', 'align_until') if k in t}
    ran = json.loads((train_run / 'run_config.json').read_text())
    if ran.get('align_modality', '') != align.get('align_modality', ''):
        sys.exit(f"shipped_data: {train_run} aligns {ran.get('align_modality') or 'nothing'}, the weights "
                 f"{align.get('align_modality') or 'nothing'}: not the run they were exported from")
    enc = encoder_record(train_run)
    train_h = st['cpu_seconds'] / 3600
    return {'file': str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
            'pairs': st.get('images', step * t['batch_size']), 'steps': step, 'batch_size': t['batch_size'],
            # the schedule is of the run's configured steps (lr_at), which an export before its end has not finished
            'schedule_steps': t['steps'], 'constant_lr_steps': t['steps'] - decay, 'lr_decay_steps': decay, 'lr': t['lr'],
            # where the last LR warm-up began: not 0 when training went on from exported weights (a new optimizer)
            'warm_from': st.get('warm_from', 0), 'warmup_steps': t['warmup'],
            'alignment': align if align.get('align_modality') else None,
            'params_M': round(sum(v.numel() for v in ck['ema'].values()) / 1e6, 1),
            'cpu_hours_training': round(train_h, 2), 'encoder': enc,
            'cpu_hours': round(train_h + (enc['cpu_hours'] if enc else 0), 2),
            'cpu_hours_includes': 'training and the alignment encoder' if enc else 'training'}


def shipped(eval_dir: Path, weights: Path, train_run: Path) -> dict:
    "The data file's numbers: the evaluation of `eval_dir` and the weights it started from."
    m = json.loads((eval_dir / 'metrics.json').read_text())
    rc = json.loads((eval_dir / 'run_config.json').read_text())
    joint, cross, latent = (m.get(k, {}) for k in ('joint_sampling', 'cross_modal', 'latent_space'))
    cc, ccj = m['conditional_coherence'], m['conditional_coherence_judge']
    return {
        'weights': weights_record(weights, train_run),
        'finetune': {'steps': rc['steps'], 'lr': rc['lr']},
        'settings': {'conditions_per_direction': rc['n_cond'], 'joint_samples': rc['n_joint'], 'guidance': rc['guidance'],
                     'guidance_sigma_min': rc.get('guidance_sigma_min', 0.0), 'joint_guidance': rc['joint_guidance'],
                     'joint_guidance_sigma_min': rc.get('joint_guidance_sigma_min', 0.0), 'sampler': rc['sampler'],
                     'steps': rc['sample_steps']},
        'classifier_accuracy': joint['classifier_heldout_accuracy'],
        'columns': ['judge of the photos', 'joint coherence', 'digit -> photo', 'photo -> digit',
                    'class balance of the joint photos'],
        'rows': [['evaluation classifier', m['joint_coherence'], cc['digit->photo'], cc['photo->digit'],
                  joint['class_balance']['photo']],
                 ['judge (mjdiff.judge)', m['joint_coherence_judge'], ccj['digit->photo'], ccj['photo->digit'],
                  joint['class_balance_judge']['photo']]],
        **_round({'frechet_distance': {'joint': joint.get('frechet_distance'), 'conditional': cross.get('frechet_distance')},
                  'robustness_auc': cross.get('robustness_auc') or None,
                  'robustness_curves': cross.get('robustness_curves') or None,
                  'calibration': cross.get('calibration') or None,
                  'latent': {'linear_probe': latent.get('linear_probe'), 'retrieval': latent.get('retrieval')}}, 4),
        'targets': TARGETS, 'issue_targets': ISSUE_TARGETS}


def main(argv=None):
    ap = argparse.ArgumentParser(prog='shipped_data', description=__doc__.splitlines()[0])
    ap.add_argument('eval_dir', type=Path)
    ap.add_argument('--train-run', type=Path, required=True)
    ap.add_argument('--run', required=True)
    ap.add_argument('--wall-time', type=int, required=True)
    ap.add_argument('--machine', required=True)
    ap.add_argument('--weights', type=Path, default=ROOT / 'mjdiff' / 'assets' / 'cifar10_mnist.pt')
    ap.add_argument('--command', default='make reproduce PRESET=cifar10_mnist_pm_cpu')
    ap.add_argument('--out', type=Path, default=DATA / 'cifar_shipped.json')
    ap.add_argument('--what', default=None, help="what the file records (default: the shipped weights' evaluation)")
    ap.add_argument('--wall-time-includes', default='installation on a fresh clone')
    a = ap.parse_args(argv)
    for p in (a.eval_dir / 'metrics.json', a.weights, a.train_run / 'run_config.json'):
        if not p.is_file(): sys.exit(f"shipped_data: {p}: no such file")
    body = shipped(a.eval_dir, a.weights.resolve(), a.train_run)
    body['weights']['run'] = a.run
    out = {'what': a.what or "The shipped CIFAR-10 x MNIST weights (mjdiff/assets/cifar10_mnist.pt) fine-tuned for "
                   f"{body['finetune']['steps']} steps and evaluated; the generated photos scored by the evaluation "
                   "classifier and by the judge (mjdiff.judge)",
           'command': a.command, 'machine': a.machine, 'date': datetime.date.today().isoformat(),
           'source': f"written by tools/shipped_data.py from {a.eval_dir}/metrics.json, run_config.json and the "
                     "weights' recorded state (the run directories are outside the repository)",
           'wall_time_s': a.wall_time, 'wall_time_includes': a.wall_time_includes, **body}
    text = dumps(out, digits={'rows': 3})        # coherence to the digits the evaluation prints: what README shows
    a.out.write_text(text, encoding='utf-8')
    out = json.loads(text)
    r = out['rows']
    print(f"{a.out}: joint {r[0][1]}, digit -> photo {r[0][2]}, photo -> digit {r[0][3]} (judge {r[1][1]} / {r[1][2]} / "
          f"{r[1][3]}); weights {out['weights']['pairs']:,} pairs, {out['weights']['cpu_hours']} CPU-hours")
    return out


if __name__ == '__main__':
    main()
