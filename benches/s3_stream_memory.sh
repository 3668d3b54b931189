#!/usr/bin/env bash
# Memory of a migration with LARGE parts (not run in CI): one archive of
# SIZE_MIB exported by `glacier vault export VAULT s3://BUCKET/PREFIX` from the Glacier
# mock to moto's S3 server, both on loopback, with `--s3-part-size PART_MIB`. Each part
# streams from its Glacier range into UploadPart (aws-chunked, trailing SHA-256), so peak
# RSS must stay far below "parts in flight x part size", which is what a client that
# buffers parts needs (and what this project's export needed before: threads + 2 parts).
# Prints peak RSS (GNU time %M) against both figures, checks the object byte for byte,
# and exits 1 when RSS reaches one part size.
#
#   bash benches/s3_stream_memory.sh [SIZE_MIB] [PART_MIB] [THREADS] [MAX_MEMORY_MIB]
#        (defaults: 1024 256 4 512; PROFILE=debug to skip the release build)
#
# Needs moto's server (pip install 'moto[server]'), GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
part_mib=${2:-256}
threads=${3:-4}
max_memory=${4:-512}
profile=${PROFILE:-release}

if [ "$profile" = release ]; then
  cargo build --release --locked --quiet --bin glacier --example mock-glacier
else
  cargo build --locked --quiet --bin glacier --example mock-glacier
fi
bin=target/$profile/glacier
work=$(mktemp -d /dev/shm/glacier-s3mem.XXXXXX)   # tmpfs: the disk is not what we measure
mock_pid= moto_pid=
cleanup() {
  exec 9>&- 2>/dev/null || true
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"target/$profile/examples/mock-glacier" --dir "$work/mock" --vault bench --job-polls 0 \
  >"$work/url" 2>"$work/mock.log" &
mock_pid=$!
# moto serves until its stdin closes: hold a FIFO open for it.
mkfifo "$work/moto.in"
python3 tests/s3server/moto_s3.py <"$work/moto.in" >"$work/moto.port" 2>"$work/moto.log" &
moto_pid=$!
exec 9>"$work/moto.in"
for _ in $(seq 400); do [ -s "$work/url" ] && [ -s "$work/moto.port" ] && break; sleep 0.05; done
s3_url="http://127.0.0.1:$(head -1 "$work/moto.port")"
export AWS_ACCESS_KEY_ID=AKIDMOCKEXAMPLE AWS_SECRET_ACCESS_KEY='mock+secret/KEY/EXAMPLE0000000000000000'
export AWS_REGION=us-east-1 AWS_ENDPOINT_URL_GLACIER=$(head -1 "$work/url") AWS_EC2_METADATA_DISABLED=true
export XDG_DATA_HOME="$work/data"

python3 - "$s3_url" <<'EOF'
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1").create_bucket(Bucket="bench")
EOF

head -c $((size_mib << 20)) /dev/urandom >"$work/src.bin"
"$bin" --quiet upload -p 64 -t 2 --no-receipts bench "$work/src.bin" >"$work/archive"
archive=$(cat "$work/archive")
hash=$("$bin" tree-hash "$work/src.bin" | awk '{print $1}')
printf '{"VaultARN":"arn","InventoryDate":"2026-01-01T00:00:00Z","ArchiveList":[{"ArchiveId":"%s","ArchiveDescription":"src.bin","CreationDate":"2026-01-01T00:00:00Z","Size":%d,"SHA256TreeHash":"%s"}]}' \
  "$archive" $((size_mib << 20)) "$hash" >"$work/inv.json"

parts=$(( (size_mib + part_mib - 1) / part_mib ))
in_flight=$(( threads < parts ? threads : parts ))
echo "== $size_mib MiB archive, --s3-part-size ${part_mib}M ($parts parts), -t $threads, --max-memory $max_memory, $profile build, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%F)"
/usr/bin/time -f '%e %M' -o "$work/time" "$bin" --quiet vault export --inventory "$work/inv.json" \
  --journal "$work/journal" --storage-class STANDARD --s3-part-size "${part_mib}M" \
  -t "$threads" --max-memory "$max_memory" --s3-endpoint-url "$s3_url" bench s3://bench/m \
  >"$work/out" 2>"$work/err" || { cat "$work/err"; exit 1; }
read -r wall rss <"$work/time"
rss_mib=$((rss / 1024))
echo "migrate (mock -> moto): $wall s wall, peak RSS $rss_mib MiB"
echo "  parts in flight x part size:             $in_flight x $part_mib = $((in_flight * part_mib)) MiB (what buffered parts need)"
echo "  bound of the buffered export before:    $(( (threads + 2) * part_mib )) MiB ((threads + 2) x part)"
echo "  one part:                                $part_mib MiB"

python3 - "$s3_url" "$work/src.bin" <<'EOF'
import sys, hashlib, boto3
url, path = sys.argv[1], sys.argv[2]
body = boto3.client("s3", endpoint_url=url, region_name="us-east-1").get_object(Bucket="bench", Key="m/src.bin")["Body"]
h = hashlib.sha256()
for chunk in iter(lambda: body.read(1 << 20), b""):
    h.update(chunk)
src = hashlib.sha256()
with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        src.update(chunk)
same = h.hexdigest() == src.hexdigest()
print("object in S3:", "identical to the source" if same else "DIFFERS")
sys.exit(0 if same else 1)
EOF

if [ "$rss_mib" -ge "$part_mib" ]; then
  echo "FAIL: peak RSS $rss_mib MiB reaches one part ($part_mib MiB)"
  exit 1
fi
echo "PASS: peak RSS $rss_mib MiB < one part ($part_mib MiB) < parts in flight x part size ($((in_flight * part_mib)) MiB)"
