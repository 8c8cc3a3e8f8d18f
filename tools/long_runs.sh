#!/usr/bin/env bash
# The long CIFAR-10 × MNIST runs (issue 17), in the background at one thread each: `ours` (preset
# cifar10_mnist_pretrain) and `paper` (cifar10_mnist_paper_pretrain, the paper's method at the same budget).
# The state lives outside the repository, in $RUNS (default: runs/long beside the repository). Starting one
# that has a checkpoint resumes it exactly; one that is already running is refused by its run lock (see its log).
#   tools/long_runs.sh [ours] [paper]        # both when none is named
#   STEPS=31250 tools/long_runs.sh ours      # train on to 31,250 steps (2,000,000 pairs)
#   FROM=mjdiff/assets/cifar10_mnist.pt tools/long_runs.sh ours   # a lost run: go on from exported weights (a milestone
#                                            # ema_*.pt or the shipped asset), inexactly (new optimizer, LR re-warm-up)
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
  nohup env OMP_NUM_THREADS=1 "$ROOT/.venv/bin/mjdiff" reproduce --preset "${PRESET[$n]}" --out "$RUNS/$n" --stages train \
    ${STEPS:+--param steps=$STEPS} >> "$RUNS/$n.log" 2>&1 < /dev/null &
  echo "$n: pid $!, log $RUNS/$n.log, curve $RUNS/$n/curve.csv"
done
