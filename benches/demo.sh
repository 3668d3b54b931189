#!/usr/bin/env bash
# The whole job offline, no AWS account needed: build, start the bundled mock Glacier on
# loopback, upload a generated file, start a retrieval, download it back when the job is
# done, and verify it (cmp and tree hash). Each step prints the command it runs.
#
#   bash benches/demo.sh [SIZE_MIB]        (default 160: a multipart upload in 8 MiB parts)
#
# Everything lives in a temporary directory removed at the end; nothing outside it is
# touched (receipts and upload state go there too). Needs cargo, and bash/coreutils.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-160}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*" >&2; "$@"; }

say "1. build the CLI and the mock server (release; the first build takes a minute or two)"
show cargo build --release --locked --quiet --bin glacier --example mock-glacier

work=$(mktemp -d "${TMPDIR:-/tmp}/glacier-demo.XXXXXX")
mock_pid=
cleanup() { { [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null; } || true; rm -rf "$work"; }
trap cleanup EXIT

say "2. start the mock Glacier (strict: checks SigV4 signatures, tree hashes, part rules)"
# --job-polls 1: a job reports InProgress to the first DescribeJob and is done at the next
# one (real Glacier takes 3-5 hours for a Standard retrieval).
echo "\$ target/release/examples/mock-glacier --dir $work/mock --vault demo --job-polls 1 &"
target/release/examples/mock-glacier --dir "$work/mock" --vault demo --job-polls 1 \
  >"$work/url" 2>"$work/mock.log" &
mock_pid=$!
for _ in $(seq 200); do [ -s "$work/url" ] && break; sleep 0.05; done
[ -s "$work/url" ] || { echo "the mock did not start:"; cat "$work/mock.log"; exit 1; }
url=$(head -1 "$work/url")
echo "mock listening on $url"

# The mock's test credentials: they only work against the mock.
export AWS_ACCESS_KEY_ID=AKIDMOCKEXAMPLE
export AWS_SECRET_ACCESS_KEY='mock+secret/KEY/EXAMPLE0000000000000000'
export AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_GLACIER=$url
export AWS_EC2_METADATA_DISABLED=true       # never ask an instance metadata service
export XDG_DATA_HOME=$work/data             # receipts and upload state stay in the demo dir
export GLACIER_POLL_MS=1000                 # poll the job every second, not every 15 s
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CA_BUNDLE 2>/dev/null || true
echo "AWS_ENDPOINT_URL_GLACIER=$url (test keys exported; see benches/demo.sh)"

say "3. generate $size_mib MiB of random data and compute its tree hash locally"
head -c $((size_mib << 20)) /dev/urandom >"$work/photo-backup.bin"
show target/release/glacier tree-hash "$work/photo-backup.bin" | tee "$work/local.hash"

say "4. list the vaults"
show target/release/glacier vault list

say "5. upload (multipart above 100 MiB, parts in parallel, each checked by tree hash)"
show target/release/glacier upload demo "$work/photo-backup.bin" | tee "$work/archive.id"
archive=$(cat "$work/archive.id")

say "6. start a retrieval job for the archive"
show target/release/glacier archive init-retrieval demo -- "$archive" | tee "$work/job.id"
job=$(cat "$work/job.id")

say "7. look at the job"
show target/release/glacier jobs describe demo "$job"

say "8. wait for the job, download the archive back (each chunk verified), then verify"
show target/release/glacier archive get --wait demo "$job" "$work/restored.bin"
show cmp "$work/photo-backup.bin" "$work/restored.bin"
echo "cmp: identical"
target/release/glacier tree-hash "$work/restored.bin" >"$work/restored.hash"
if [ "$(cut -d' ' -f1 "$work/local.hash")" = "$(cut -d' ' -f1 "$work/restored.hash")" ]; then
  echo "tree hash: identical ($(cut -d' ' -f1 "$work/local.hash"))"
else
  echo "tree hash: DIFFERENT"; exit 1
fi

say "done: uploaded, retrieved and verified $size_mib MiB against the mock; receipt:"
cat "$work/data/glacier-upload/receipts.jsonl"
