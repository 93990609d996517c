#!/usr/bin/env bash
# The benchmark, from a fresh clone: builds release, installs the peers (setup.sh), runs the
# scenarios and writes the report.
#   Benchmarks/run.sh                 all scenarios, full variant (15-20 minutes on 2 cores) -> BENCHMARKS.md
#   Benchmarks/run.sh --quick         all scenarios, short variant (about 2 minutes) -> .build-bench/BENCHMARKS-quick.md
#   Benchmarks/run.sh 1 3 --quick     some scenarios (1 detect, 2 spawn, 3 merge, 4 throughput, 5 recovery, 6 idle, 7 makespan, 8 dashboard)
# BENCH_REPORT=FILE picks the report's path; BENCH_SCRATCH=DIR the build folder (.build-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${BENCH_SCRATCH:-.build-bench}"
report="${BENCH_REPORT:-}"
if [ -z "$report" ]; then
  case " $* " in
    *" --quick "*) report="$scratch/BENCHMARKS-quick.md" ;;
    *) report="BENCHMARKS.md" ;;
  esac
fi
# The binary the README installs: the Swift runtime and Foundation linked in (scenario 6 measures its RSS).
swift build -c release --static-swift-stdlib --scratch-path "$scratch"
bash Benchmarks/setup.sh
exec "$scratch/release/watcher-bench" --report "$report" "$@"
