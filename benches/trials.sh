#!/bin/sh
# Crash-resume trials at scale: builds the tests in release and runs the trials of
# tests/crash_resume.rs with GLACIER_TRIALS=N (default 50) SIGKILLed uploads and N
# downloads, each resumed and compared byte for byte with the source. On demand, not in CI.
#
# Usage: benches/trials.sh [N]
set -eu
cd "$(dirname "$0")/.."
n="${1:-50}"
log="${TMPDIR:-/tmp}/glacier-trials-$$.log"
echo "building (release) and running $n upload + $n download crash-resume trials..."
start=$(date +%s)
status=0
GLACIER_TRIALS="$n" cargo test --release --test tests crash_resume::crash_resume_trials \
    -- --nocapture >"$log" 2>&1 || status=$?
end=$(date +%s)
grep -E '^crash-resume (upload|download) trials: ' "$log" || true
if [ "$status" -ne 0 ]; then
    echo "FAILED (exit $status); failing trials:"
    grep -E '(upload|download) trial [0-9]+:' "$log" || tail -n 40 "$log"
    echo "full log: $log"
    exit "$status"
fi
echo "all passed in $((end - start)) s"
rm -f "$log"
