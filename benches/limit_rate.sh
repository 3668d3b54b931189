#!/usr/bin/env bash
# --limit-rate against the mock on loopback (not run in CI): `glacier upload` and
# `glacier archive get` of one generated file at a given rate, printing the achieved rate
# and its ratio to the asked one. A ratio near 1.0 (a little above it from the initial
# burst of a quarter second's worth, a little below from request round trips) means the
# shared bucket paces the wire; without the flag loopback runs at hundreds of MB/s.
#
#   bash benches/limit_rate.sh [SIZE_MIB] [RATE] [THREADS]      (defaults: 32 8M 4)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-32}
rate=${2:-8M}
threads=${3:-4}

# RATE as the flag reads it: whole bytes, or K/M/G = KiB/MiB/GiB.
case ${rate^^} in
  *K) rate_bytes=$(( ${rate%?} << 10 )) ;;
  *M) rate_bytes=$(( ${rate%?} << 20 )) ;;
  *G) rate_bytes=$(( ${rate%?} << 30 )) ;;
  *) rate_bytes=$rate ;;
esac

cargo build --release --locked --quiet --bin glacier --example mock-glacier
bin=target/release/glacier
work=$(mktemp -d /dev/shm/glacier-rate.XXXXXX)
trap 'kill $mock_pid 2>/dev/null || true; rm -rf "$work"' EXIT

target/release/examples/mock-glacier --dir "$work/mock" --vault bench --job-polls 0 \
  >"$work/url" 2>"$work/mock.log" &
mock_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.05; done
export AWS_ACCESS_KEY_ID=AKIDMOCKEXAMPLE AWS_SECRET_ACCESS_KEY='mock+secret/KEY/EXAMPLE0000000000000000'
export AWS_REGION=us-east-1 AWS_ENDPOINT_URL_GLACIER=$(head -1 "$work/url") AWS_EC2_METADATA_DISABLED=true
export XDG_DATA_HOME="$work/data"

head -c $((size_mib << 20)) /dev/urandom >"$work/src.bin"

measure() { # label, command...
  local label=$1; shift
  local start end
  start=$(date +%s.%N)
  "$@" >"$work/out" 2>"$work/err" || { cat "$work/err"; exit 1; }
  end=$(date +%s.%N)
  local wall achieved
  wall=$(echo "$end - $start" | bc -l)
  achieved=$(echo "($size_mib * 1048576) / $wall" | bc -l)
  printf '%-12s %6.2f s  achieved %8.0f B/s  asked %d B/s  ratio %.3f\n' \
    "$label" "$wall" "$achieved" "$rate_bytes" "$(echo "$achieved / $rate_bytes" | bc -l)"
}

echo "== $size_mib MiB at --limit-rate $rate ($rate_bytes B/s), $threads threads, $(date -u +%F)"
measure upload "$bin" --quiet upload -p 1 -t "$threads" --no-receipts --limit-rate "$rate" \
  bench "$work/src.bin"
archive=$(cat "$work/out")
job=$("$bin" --quiet archive init-retrieval bench -- "$archive")
measure "archive get" "$bin" --quiet archive get -t "$threads" --chunk-size 1 \
  --limit-rate "$rate" bench "$job" "$work/back.bin"
cmp "$work/src.bin" "$work/back.bin" && echo "round trip: identical"
