#!/usr/bin/env bash
# srun held as a child vs sbatch --wait: wall time from submit to the caller knowing the end.
# Needs a cluster (.ci/slurm-cluster.sh up). Figures are quoted in the README (Running agents on a cluster).
set -euo pipefail
cd /tmp
for d in 0 2 12; do
  t0=$(date +%s.%N); srun --quiet --job-name=m-srun -- sleep $d; t1=$(date +%s.%N)
  printf 'srun   sleep %2d: %.2f s\n' $d "$(echo "$t1 - $t0" | bc)"
  t0=$(date +%s.%N); sbatch --quiet --wait --job-name=m-sbatch --output=/dev/null --wrap "sleep $d"; t1=$(date +%s.%N)
  printf 'sbatch sleep %2d: %.2f s\n' $d "$(echo "$t1 - $t0" | bc)"
done
