#!/usr/bin/env bash
# The long CIFAR-10 × MNIST runs (issue 17), in the background at one thread each: `ours` (preset
# cifar10_mnist_pretrain) and `paper` (cifar10_mnist_paper_pretrain, the paper's method at the same budget).
# The state lives outside the repository, in $RUNS (default: runs/long beside the repository). Starting one
# that has a checkpoint resumes it exactly; one that is already running is refused by its run lock (see its log).
#   tools/long_runs.sh [ours] [paper]        # both when none is named
#   STEPS=31250 tools/long_runs.sh ours      # train on to 31,250 steps (2,000,000 pairs)
#   THREADS=2 tools/long_runs.sh ours        # alone on the machine: two threads (OMP_NUM_THREADS; default 1)
#   COOL=2500 tools/long_runs.sh ours        # a cooldown branch (warm-up–stable–decay): the run's exact current state
#                                            # (stop it first) copied to $RUNS/ours_cool<step>, trained 2,500 more steps
#                                            # with the learning rate decayed linearly to 0; rerun to resume the branch
#                                            # (the shipped weights: COOL=5000 at step 27,750)
#   FROM=mjdiff/assets/cifar10_mnist.pt STEPS=37500 tools/long_runs.sh ours   # a lost run: go on from exported weights
#                                            # (a milestone ema_*.pt, or the shipped asset: a cooldown's end at step 32,750),
#                                            # inexactly (new optimizer, LR re-warm-up); STEPS must exceed their step
#   FROM=mjdiff/assets/cifar10_mnist_paper.pt tools/long_runs.sh paper   # the same for the paper's method (its kept weights)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-$(dirname "$ROOT")/runs/long}
declare -A PRESET=([ours]=cifar10_mnist_pretrain [paper]=cifar10_mnist_paper_pretrain)
[ $# -gt 0 ] || set -- ours paper
mkdir -p "$RUNS"
for n in "$@"; do
  [ -n "${PRESET[$n]:-}" ] || { echo "unknown run $n: ours or paper" >&2; exit 2; }
  if [ -n "${FROM:-}" ] && [ ! -e "$RUNS/$n/checkpoints/last.pt" ]; then
    mkdir -p "$RUNS/$n/checkpoints" && cp "$FROM" "$RUNS/$n/checkpoints/last.pt" && echo "$n: going on from $FROM"
  fi
  name=$n; params=(${STEPS:+--param steps=$STEPS})
  if [ -n "${COOL:-}" ]; then
    [[ $COOL =~ ^[1-9][0-9]*$ ]] || { echo "COOL must be a number of steps, not '$COOL'" >&2; exit 2; }
    src="$RUNS/$n/checkpoints/last.pt"
    [ -e "$src" ] || { echo "$n has no checkpoint ($src) to branch a cooldown from" >&2; exit 2; }
    step=$("$ROOT/.venv/bin/python" -c "import sys; from mjdiff.io import load_checkpoint; print(load_checkpoint(sys.argv[1])['step'])" "$src")
    name=${n}_cool$step
    if [ ! -e "$RUNS/$name/checkpoints/last.pt" ]; then
      mkdir -p "$RUNS/$name/checkpoints" && cp "$src" "$RUNS/$name/checkpoints/last.pt" && echo "$name: branched from $n at step $step"
    fi
    params=(--param steps=$((step + COOL)) --param lr_decay=$COOL)
  fi
  nohup env OMP_NUM_THREADS=${THREADS:-1} "$ROOT/.venv/bin/mjdiff" reproduce --preset "${PRESET[$n]}" --out "$RUNS/$name" --stages train \
    "${params[@]}" >> "$RUNS/$name.log" 2>&1 < /dev/null &
  echo "$name: pid $!, log $RUNS/$name.log, curve $RUNS/$name/curve.csv"
done
