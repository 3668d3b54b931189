#!/usr/bin/env bash
# End-to-end benchmark of the real binary against the mock on loopback (not run in CI):
# `glacier upload` and `glacier archive get` of one generated file, reporting wall time,
# client CPU seconds per GiB and peak RSS (GNU time), plus the memory bound the upload
# promises (threads x part size + 32 MiB).
#
#   bash benches/e2e.sh [SIZE_MIB] [PART_MIB] [THREADS]      (defaults: 2048 8 4)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-2048}
part_mib=${2:-8}
threads=${3:-4}

cargo build --release --locked --quiet --bin glacier --example mock-glacier
bin=target/release/glacier
work=$(mktemp -d /dev/shm/glacier-bench.XXXXXX)   # tmpfs: the disk is not what we measure
trap 'kill $mock_pid 2>/dev/null || true; rm -rf "$work"' EXIT

target/release/examples/mock-glacier --dir "$work/mock" --vault bench --job-polls 0 \
  >"$work/url" 2>"$work/mock.log" &
mock_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.05; done
export AWS_ACCESS_KEY_ID=AKIDMOCKEXAMPLE AWS_SECRET_ACCESS_KEY='mock+secret/KEY/EXAMPLE0000000000000000'
export AWS_REGION=us-east-1 AWS_ENDPOINT_URL_GLACIER=$(head -1 "$work/url") AWS_EC2_METADATA_DISABLED=true
export XDG_DATA_HOME="$work/data"

head -c $((size_mib << 20)) /dev/urandom >"$work/src.bin"
gib=$(echo "scale=6; $size_mib / 1024" | bc)

measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
    cat "$work/err"; exit 1; }
  read -r wall user sys rss <"$work/time"
  cpu=$(echo "$user + $sys" | bc)
  printf '%-12s %6.2f s wall  %6.2f MB/s  %5.2f CPU-s/GiB (user %s, sys %s)  peak RSS %d MiB\n' \
    "$label" "$wall" "$(echo "$size_mib * 1.048576 / $wall" | bc -l)" \
    "$(echo "$cpu / $gib" | bc -l)" "$user" "$sys" $((rss / 1024))
}

echo "== $size_mib MiB, part $part_mib MiB, $threads threads, $(nproc) cores, $(date -u +%F)"
measure upload "$bin" --quiet upload -p "$part_mib" -t "$threads" --no-receipts bench "$work/src.bin"
archive=$(cat "$work/out")
echo "memory bound: threads x part + 32 MiB = $((threads * part_mib + 32)) MiB"
job=$("$bin" archive init-retrieval bench -- "$archive")
measure "archive get" "$bin" --quiet archive get -t "$threads" bench "$job" "$work/back.bin"
cmp "$work/src.bin" "$work/back.bin" && echo "round trip: identical"

# ---- download block (issue 15 "Downloads: large writes"; kept apart from the TLS rows) ----
# Client CPU of `archive get` against the floor of one SHA-256 pass over the same bytes,
# measured in this run on one core (`openssl speed`, 1 MiB blocks). "fresh" is the first
# download into new tmpfs pages; "steady" the third run of the same download.
sha_rate=$(openssl speed -evp sha256 -bytes 1048576 -seconds 3 2>/dev/null |
  awk '/^sha256|^SHA256/ {v=$NF; sub(/k$/, "", v); print v * 1000}')
floor=$(echo "$size_mib * 1048576 / $sha_rate" | bc -l)
printf 'one SHA-256 pass (openssl, 1 core): %.0f MB/s = %.3f CPU-s for %d MiB\n' \
  "$(echo "$sha_rate / 1000000" | bc -l)" "$floor" "$size_mib"
for run in fresh 2 steady; do
  rm -f "$work/dl.bin"
  measure "get $run" "$bin" --quiet archive get -t "$threads" bench "$job" "$work/dl.bin"
  read -r _ user sys _ <"$work/time"
  printf '  archive get (%s): %.2f CPU-s = %.2fx one SHA-256 pass (target <= 1.5x)\n' \
    "$run" "$(echo "$user + $sys" | bc)" "$(echo "($user + $sys) / $floor" | bc -l)"
done
cmp "$work/src.bin" "$work/dl.bin" && echo "download block: round trip identical"
# ---- end of download block ----
