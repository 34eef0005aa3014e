#!/usr/bin/env bash
# scripts/check-dates.sh: the test suite must hold on any date and on a loaded machine. Runs
# ctest in BUILD (default: build, as `make check` made it) with the system clock moved by
# libfaketime to a date before, one inside and one after every period in examples/, then twice
# in a row with `stress` keeping both cores busy. Prints one line per run and exits non-zero if
# any run failed; each run's ctest log is kept in BUILD/check-dates/.
#
#   make check && bash scripts/check-dates.sh            # or: make check-dates
#   DATES="2031-01-01" STRESS_RUNS=0 bash scripts/check-dates.sh build
#
# The clock is moved by whole days (FAKETIME "+Nd"/"-Nd", the same offset in every process,
# without libfaketime's shared memory), so it runs on from the date at the same time of day.
# libfaketime 0.9.10 moves CLOCK_MONOTONIC with it: with FAKETIME_DONT_FAKE_MONOTONIC it still
# shifts the deadline of every timed wait on a monotonic condition variable, so each such wait
# returns at once. The plain library, not the MT one, whose lock is held across fork and
# deadlocked forked shells. Tests labelled realclock (their outside servers are Go programs,
# whose clock libfaketime cannot move) run only under stress. Needs Debian's faketime and
# stress packages (installed here when missing). A sanitizer build works: ASan is told not to
# insist on being loaded first.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
dates=${DATES-"2026-06-15 2026-12-20 2028-06-15"}
stress_runs=${STRESS_RUNS-2}
lib=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1

[ -f "$build/CTestTestfile.cmake" ] || { echo "check-dates: no tests in $build: run make check" >&2; exit 2; }
if [ ! -f "$lib" ] || ! command -v stress >/dev/null; then
    [ "$(id -u)" -eq 0 ] || { echo "check-dates: install faketime and stress" >&2; exit 2; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime stress >/dev/null
fi
logs="$build/check-dates"
mkdir -p "$logs"
jobs=$(nproc 2>/dev/null || echo 2)
bad=0

run() { # NAME [CTEST ARGS]: ctest in $build, its summary line, its log in $logs/NAME.log
    local name=$1 rc=0
    shift
    (cd "$build" && ctest -j "$jobs" --output-on-failure "$@") >"$logs/$name.log" 2>&1 || rc=$?
    printf '%-22s %s\n' "$name" "$(grep -E 'tests passed|No tests' "$logs/$name.log" | tail -n 1)"
    [ "$rc" -eq 0 ] || { bad=1; grep -E '^\s+[0-9]+ - ' "$logs/$name.log" || true; }
}

for d in $dates; do
    days=$((($(date -u -d "$d" +%s) - $(date -u +%s)) / 86400))
    sign=
    [ "$days" -ge 0 ] && sign=+
    LD_PRELOAD=$lib FAKETIME="$sign${days}d" FAKETIME_DISABLE_SHM=1 \
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 run "date-$d" -LE realclock
done

for i in $(seq 1 "$stress_runs"); do
    stress --cpu "$jobs" --timeout 3600 >/dev/null 2>&1 &
    spid=$!
    run "stress-$i"
    pkill -P "$spid" 2>/dev/null || true
    kill "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
done
exit "$bad"
