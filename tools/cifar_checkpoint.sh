#!/usr/bin/env bash
# The shipped CIFAR-10 × MNIST weights from scratch, in stages (`make cifar-checkpoint`). The first stage trains
# preset cifar10_mnist_pretrain in RUN; each later stage starts from the EMA weights of the stage before (exported,
# then placed as the new run's checkpoint: a new optimizer and a learning-rate warm-up, the step and the running totals
# going on) and trains in RUN_more, RUN_more2, ... The last stage's EMA weights are written to WEIGHTS. Stopped, the same
# command resumes: a stage whose run has a checkpoint goes on from it (a finished one returns at once).
#   tools/cifar_checkpoint.sh RUN STAGE [STAGE ...]
#   STAGE     the stage's parameters, k=v joined by commas (steps=10000,lr_decay=2000)
#   PARAMS    k=v separated by spaces, given to every stage before its own (so a stage overrides them)
#   WEIGHTS   where the EMA weights go (default mjdiff/assets/cifar10_mnist.pt)
#   MJDIFF    the mjdiff command (default .venv/bin/mjdiff)
#   DRY=1     print the commands, run nothing
set -euo pipefail -f                  # -f: a k=v is never taken for a file pattern
[ $# -ge 2 ] || { echo "usage: tools/cifar_checkpoint.sh RUN STAGE [STAGE ...] (a stage: k=v,k=v)" >&2; exit 2; }
run=$1; shift
MJ=${MJDIFF:-.venv/bin/mjdiff}; WEIGHTS=${WEIGHTS:-mjdiff/assets/cifar10_mnist.pt}
for stage in "$@"; do
  [[ $stage != *[[:space:]]* ]] || { echo "cifar_checkpoint: a stage has no spaces (k=v joined by commas), not '$stage'" >&2; exit 2; }
  IFS=',' read -ra kvs <<< "$stage"
  for kv in ${kvs[@]+"${kvs[@]}"}; do
    [[ $kv == ?*=?* ]] || { echo "cifar_checkpoint: a stage is k=v joined by commas, not '$stage'" >&2; exit 2; }
  done
  [[ ,$stage, == *,steps=* ]] || { echo "cifar_checkpoint: stage '$stage' names no steps (each stage trains to its own)" >&2; exit 2; }
done
do_() { if [ -n "${DRY:-}" ]; then echo "$*"; else "$@"; fi; }
k=0; prev=
for stage in "$@"; do
  k=$((k + 1))
  case $k in 1) here=$run ;; 2) here=${run}_more ;; *) here=${run}_more$((k - 1)) ;; esac
  if [ -n "$prev" ] && [ ! -f "$here/checkpoints/last.pt" ]; then    # from the stage before's EMA weights
    do_ mkdir -p "$here/checkpoints"
    do_ "$MJ" export-checkpoint "$prev/checkpoints/last.pt" "$here/from.pt"   # then renamed into place: the run starts
    do_ mv "$here/from.pt" "$here/checkpoints/last.pt"                        # from a whole file or none
  fi
  params=()
  for kv in ${PARAMS:-} ${stage//,/ }; do params+=(--param "$kv"); done
  do_ "$MJ" reproduce --preset cifar10_mnist_pretrain --out "$here" --stages train "${params[@]}"
  prev=$here
done
do_ "$MJ" export-checkpoint "$prev/checkpoints/last.pt" "$WEIGHTS"
