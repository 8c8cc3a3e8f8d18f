#!/usr/bin/env bash
# The long CIFAR-10 × MNIST runs, in the background at one thread each: `ours` (preset
# cifar10_mnist_pretrain) and `paper` (cifar10_mnist_paper_pretrain, the paper's method at the same budget).
# The state lives outside the repository, in $RUNS (default: runs/long beside the repository). Starting one
# that has a checkpoint resumes it exactly; one that is already running is refused by its run lock (see its log).
#   tools/long_runs.sh [ours] [paper]        # both when none is named
#   STEPS=31250 tools/long_runs.sh ours      # train on to 31,250 steps (2,000,000 pairs)
#   THREADS=2 tools/long_runs.sh ours        # alone on the machine: two threads (OMP_NUM_THREADS; default 1)
#   COOL=2500 tools/long_runs.sh ours        # a cooldown branch (warm-up–stable–decay): the run's exact current state
#                                            # (stop it first) copied to $RUNS/ours_cool<step>, trained 2,500 more steps
#                                            # with the learning rate decayed linearly to 0; rerun to resume the branch
#                                            # (the unaligned weights shipped until f849406: COOL=5000 at step 27,750)
#   BRANCH=minsnr:min_snr=5 EXTRA=1500 tools/long_runs.sh ours   # a study arm late in the run: the exact current state
#                                            # (stop it first) copied to $RUNS/ours_minsnr<step>, trained EXTRA more steps
#                                            # with the parameters after ':' changed (k=v,k=v; none: the trunk's own
#                                            # continuation, the arm to compare against); rerun to resume the arm
#   AT=30000 BRANCH=... EXTRA=3000 tools/long_runs.sh ours   # resume the branch made at step 30,000 (also COOL) once the
#                                            # run itself has moved on (its current step would name a new branch)
#   DRY=1 ... tools/long_runs.sh ours        # set up (branch, copy) and print the training command, start nothing
#   PYTHON=/path/to/python ...               # the environment to run in (default: the repository's .venv)
#   FROM=ema_0027500.pt STEPS=37500 tools/long_runs.sh ours   # a lost run: go on from exported weights
#                                            # (a milestone ema_*.pt of the run; the shipped asset is of the aligned run),
#                                            # inexactly (new optimizer, LR re-warm-up); STEPS must exceed their step
#   FROM=mjdiff/assets/cifar10_mnist_paper.pt tools/long_runs.sh paper   # the same for the paper's method (its kept weights)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-$(dirname "$ROOT")/runs/long}
PY=${PYTHON:-$ROOT/.venv/bin/python}
declare -A PRESET=([ours]=cifar10_mnist_pretrain [paper]=cifar10_mnist_paper_pretrain)
[ $# -gt 0 ] || set -- ours paper
mkdir -p "$RUNS"
for n in "$@"; do
  [ -n "${PRESET[$n]:-}" ] || { echo "unknown run $n: ours or paper" >&2; exit 2; }
  if [ -n "${FROM:-}" ] && [ ! -e "$RUNS/$n/checkpoints/last.pt" ]; then
    mkdir -p "$RUNS/$n/checkpoints" && cp "$FROM" "$RUNS/$n/checkpoints/last.pt" && echo "$n: going on from $FROM"
  fi
  name=$n; params=(${STEPS:+--param steps=$STEPS})
  if [ -n "${COOL:-}" ] || [ -n "${BRANCH:-}" ]; then
    [ -z "${COOL:-}" ] || [ -z "${BRANCH:-}" ] || { echo "give COOL or BRANCH, not both" >&2; exit 2; }
    [ -z "${STEPS:-}" ] || { echo "STEPS is for the run itself; a branch trains ${COOL:+COOL}${BRANCH:+EXTRA} more steps" >&2; exit 2; }
    [ -z "${COOL:-}" ] || [ -z "${EXTRA:-}" ] || { echo "EXTRA is for BRANCH; a cooldown trains COOL more steps" >&2; exit 2; }
    extra=${COOL:-${EXTRA:-}}
    [[ $extra =~ ^[1-9][0-9]*$ ]] || { echo "${COOL:+COOL}${BRANCH:+EXTRA} must be a number of steps, not '$extra'" >&2; exit 2; }
    arm=cool; changes=()
    if [ -n "${BRANCH:-}" ]; then
      arm=${BRANCH%%:*}; [[ $BRANCH == *:* ]] && IFS=',' read -ra changes <<< "${BRANCH#*:}"
      [[ $arm =~ ^[a-z]([a-z0-9]*[a-z])?$ ]] || { echo "BRANCH must be name[:k=v,...], the name lower-case letters and digits ending in a letter, not '$BRANCH'" >&2; exit 2; }
      for kv in ${changes[@]+"${changes[@]}"}; do
        [[ $kv == ?*=?* ]] || { echo "BRANCH: expected k=v, got '$kv'" >&2; exit 2; }
        [[ ${kv%%=*} != steps ]] || { echo "BRANCH: steps are set by EXTRA, not '$kv'" >&2; exit 2; }
      done
    fi
    if [ -n "${AT:-}" ]; then
      [[ $AT =~ ^[0-9]+$ ]] || { echo "AT must be the step a branch was made at, not '$AT'" >&2; exit 2; }
      step=$AT; name=${n}_$arm$step
      [ -e "$RUNS/$name/checkpoints/last.pt" ] || { echo "AT=$AT: no branch $RUNS/$name to resume" >&2; exit 2; }
    else
      src="$RUNS/$n/checkpoints/last.pt"
      [ -e "$src" ] || { echo "$n has no checkpoint ($src) to branch from" >&2; exit 2; }
      step=$("$PY" -c "import sys; from mjdiff.io import load_checkpoint; print(load_checkpoint(sys.argv[1])['step'])" "$src")
      name=${n}_$arm$step
    fi
    if [ ! -e "$RUNS/$name/checkpoints/last.pt" ]; then
      mkdir -p "$RUNS/$name/checkpoints" && cp "$src" "$RUNS/$name/checkpoints/last.pt" && echo "$name: branched from $n at step $step"
    fi
    params=(--param steps=$((step + extra)))
    [ -z "${COOL:-}" ] || params+=(--param lr_decay=$COOL)
    for kv in ${changes[@]+"${changes[@]}"}; do params+=(--param "$kv"); done
  fi
  if [ -n "${DRY:-}" ]; then echo "$name: mjdiff reproduce --preset ${PRESET[$n]} --out $RUNS/$name --stages train ${params[*]}"; continue; fi
  nohup env OMP_NUM_THREADS=${THREADS:-1} "$PY" -m mjdiff.cli reproduce --preset "${PRESET[$n]}" --out "$RUNS/$name" --stages train \
    "${params[@]}" >> "$RUNS/$name.log" 2>&1 < /dev/null &
  echo "$name: pid $!, log $RUNS/$name.log, curve $RUNS/$name/curve.csv"
done
