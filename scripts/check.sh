#!/usr/bin/env bash
# The whole test run, stage by stage, each with a wall-time budget (seconds) so that CI stays
# under 30 minutes on 2 cores. Installs missing Debian packages first when run as root.
# Usage: scripts/check.sh [STAGE...]   (default: every stage)
set -uo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-2}
declare -A budget=([deps]=480 [build]=300 [clang]=300 [test]=480 [asan]=420 [valgrind]=360 [fuzz]=240)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(deps build clang test asan valgrind fuzz)

run_stage() {
    case "$1" in
    deps)     sh scripts/deps.sh all ;;
    build)    make -j"$JOBS" all ;;
    clang)    make -j"$JOBS" B=build/clang BIN=build/clang/bin CC=clang all ;;
    test)     make test ;;
    asan)     make -j"$JOBS" asan ;;
    valgrind) make valgrind ;;
    fuzz)     make -j"$JOBS" fuzz FUZZ_RUNS="${FUZZ_RUNS:-100000}" FUZZ_SECONDS="${FUZZ_SECONDS:-150}" ;;
    *)        echo "unknown stage $1" >&2; return 2 ;;
    esac
}

failed=0
summary=""
for s in "${stages[@]}"; do
    limit=${budget[$s]:-600}
    echo "=== stage $s (budget ${limit}s)"
    start=$(date +%s)
    # timeout ends the stage's whole process group if it overruns its budget.
    timeout --foreground -k 10 "$limit" bash -c "$(declare -f run_stage); JOBS=$JOBS run_stage $s"
    rc=$?
    took=$(( $(date +%s) - start ))
    if [ $rc -eq 124 ]; then
        verdict="OVER BUDGET"
    elif [ $rc -ne 0 ]; then
        verdict="FAILED (exit $rc)"
    else
        verdict="ok"
    fi
    line=$(printf '%-9s %5ss / %4ss  %s' "$s" "$took" "$limit" "$verdict")
    echo "=== $line"
    summary+="$line"$'\n'
    [ "$verdict" = ok ] || { failed=1; break; }
done
echo
echo "stage     wall / budget"
printf '%s' "$summary"
exit $failed
