#!/usr/bin/env bash
# Migration benchmark (not run in CI): one archive of SIZE_MIB streamed by
# `glacier vault export VAULT s3://BUCKET/PREFIX` from the Glacier mock to moto's S3
# server, both on loopback. Prints the migration's wall time, throughput and peak RSS
# (GNU time), the memory bound it promises, and two baselines that show what limits it:
# the Glacier side alone (`archive get` of the same job into tmpfs) and moto alone
# (boto3, which moto ships with, uploading the same bytes with the same part size).
#
#   bash benches/migrate.sh [SIZE_MIB] [PART_MIB] [THREADS]      (defaults: 1024 16 4)
#
# Needs moto's server (pip install 'moto[server]'), GNU time, bc.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
part_mib=${2:-16}
threads=${3:-4}

cargo build --release --locked --quiet --bin glacier --example mock-glacier
bin=${GLACIER_BIN:-target/release/glacier}   # GLACIER_BIN: compare another build in the same session
work=$(mktemp -d /dev/shm/glacier-migrate.XXXXXX)   # tmpfs: the disk is not what we measure
mock_pid= moto_pid=
cleanup() {
  exec 9>&- 2>/dev/null || true
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

target/release/examples/mock-glacier --dir "$work/mock" --vault bench --job-polls 0 \
  >"$work/url" 2>"$work/mock.log" &
mock_pid=$!
# moto serves until its stdin closes: hold a FIFO open for it.
mkfifo "$work/moto.in"
python3 tests/s3server/moto_s3.py <"$work/moto.in" >"$work/moto.port" 2>"$work/moto.log" &
moto_pid=$!
exec 9>"$work/moto.in"
for _ in $(seq 200); do [ -s "$work/url" ] && [ -s "$work/moto.port" ] && break; sleep 0.05; done
s3_url="http://127.0.0.1:$(head -1 "$work/moto.port")"
export AWS_ACCESS_KEY_ID=AKIDMOCKEXAMPLE AWS_SECRET_ACCESS_KEY='mock+secret/KEY/EXAMPLE0000000000000000'
export AWS_REGION=us-east-1 AWS_ENDPOINT_URL_GLACIER=$(head -1 "$work/url") AWS_EC2_METADATA_DISABLED=true
export XDG_DATA_HOME="$work/data"

python3 - "$s3_url" <<'EOF'
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1").create_bucket(Bucket="bench")
EOF

head -c $((size_mib << 20)) /dev/urandom >"$work/src.bin"
"$bin" --quiet upload -p 64 -t "$threads" --no-receipts bench "$work/src.bin" >"$work/archive"
archive=$(cat "$work/archive")
hash=$("$bin" tree-hash "$work/src.bin" | awk '{print $1}')
printf '{"VaultARN":"arn","InventoryDate":"2026-01-01T00:00:00Z","ArchiveList":[{"ArchiveId":"%s","ArchiveDescription":"src.bin","CreationDate":"2026-01-01T00:00:00Z","Size":%d,"SHA256TreeHash":"%s"}]}' \
  "$archive" $((size_mib << 20)) "$hash" >"$work/inv.json"

measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
    cat "$work/err"; exit 1; }
  read -r wall user sys rss <"$work/time"
  printf '%-22s %7.2f s wall  %7.2f MB/s  client CPU %5.2f s  peak RSS %d MiB\n' \
    "$label" "$wall" "$(echo "$size_mib * 1.048576 / $wall" | bc -l)" \
    "$(echo "$user + $sys" | bc)" $((rss / 1024))
}
moto_cpu() { ps -o times= -p "$moto_pid" | tr -d ' '; }

echo "== $size_mib MiB, S3 part $part_mib MiB, $threads threads, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%F)"
job=$("$bin" archive init-retrieval bench -- "$archive")
measure "glacier side alone" "$bin" --quiet archive get -t 1 bench "$job" "$work/back.bin"
rm -f "$work/back.bin"

before=$(moto_cpu)
measure "migrate (mock -> moto)" "$bin" --quiet vault export --inventory "$work/inv.json" \
  --journal "$work/journal" --storage-class STANDARD --s3-part-size "${part_mib}M" \
  -t "$threads" --s3-endpoint-url "$s3_url" bench s3://bench/m
echo "  moto CPU during the migration: $(( $(moto_cpu) - before )) s;" \
  "memory bound for one archive: chunk + (threads + 2) x part = $(( part_mib + (threads + 2) * part_mib )) MiB" \
  "(a part in each upload thread, one waiting to be handed over, one being filled)"

python3 - "$s3_url" "$work/src.bin" "$part_mib" "$threads" "$size_mib" <<'EOF'
import sys, time, boto3
from boto3.s3.transfer import TransferConfig
url, path, part, threads, mib = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
cfg = TransferConfig(multipart_threshold=part << 20, multipart_chunksize=part << 20, max_concurrency=threads)
t = time.time()
boto3.client("s3", endpoint_url=url, region_name="us-east-1").upload_file(path, "bench", "boto3.bin", Config=cfg)
wall = time.time() - t
print(f"{'moto alone (boto3)':<22} {wall:7.2f} s wall  {mib * 1.048576 / wall:7.2f} MB/s")
EOF

python3 - "$s3_url" "$work/src.bin" <<'EOF'
import sys, hashlib, boto3
url, path = sys.argv[1], sys.argv[2]
body = boto3.client("s3", endpoint_url=url, region_name="us-east-1").get_object(Bucket="bench", Key="m/src.bin")["Body"]
h = hashlib.sha256()
for chunk in iter(lambda: body.read(1 << 20), b""):
    h.update(chunk)
same = h.hexdigest() == hashlib.sha256(open(path, "rb").read()).hexdigest()
print("object in S3:", "identical to the source" if same else "DIFFERS")
sys.exit(0 if same else 1)
EOF
