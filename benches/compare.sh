#!/usr/bin/env bash
# Side-by-side benchmark (on demand, not in CI): glacier against the Python tools, in one
# run, on the same generated files, against the same mock Glacier on loopback.
#
#   - tree hash: `glacier tree-hash` vs botocore's `calculate_tree_hash` (Python), with
#     `openssl speed -evp sha256 -multi $(nproc)` as the limit;
#   - upload of one large file: `glacier upload` vs the PyPI `glacier_upload` tool
#     (boto3, which honours AWS_ENDPOINT_URL_GLACIER), each with its default threads and
#     8 MiB parts: wall time, client CPU seconds (user + sys), peak RSS (GNU time);
#   - `glacier archive get` vs the Python tool's `archive get`, same job, same archive;
#   - packing a directory tree of mixed files into .tar.xz: `glacier upload DIR` to the
#     mock (pack + upload, streamed) vs Python's `tarfile` mode "w:xz" (pack only, to
#     tmpfs), at the same xz preset: 0 (glacier's default) and 6 (the Python tool's).
#
#   bash benches/compare.sh [FILE_MIB] [TREE_MIB]       (defaults: 2048 64)
#
# Environment: WORK (scratch dir; default a fresh one in /dev/shm, so the disk is not
# what is measured), PYGLACIER_VENV (default ~/.cache/glacier-bench/venv: a venv where
# `pip install glacier_upload` is run once; needs PyPI the first time), PRESETS (xz
# presets for the packing rows, default "0 6").
#
# Ratios are "Python / glacier" for times, CPU and memory (above 1: glacier is better)
# and "glacier / limit" for the hash rate. The upload and archive get CPU rows also give
# each tool's CPU as a ratio to the same-run SHA-256 floor: `openssl speed -evp sha256
# -bytes 1048576` on one core, times the passes the operation needs (an upload hashes every
# byte twice, linear SHA-256 for signing and the tree hash; a download once). The floor
# is CPU time, so these ratios hold on a loaded machine where wall times do not.
set -euo pipefail
cd "$(dirname "$0")/.."
file_mib=${1:-2048}
tree_mib=${2:-64}
presets=${PRESETS:-0 6}
# The Python tool's archive get asks for 32 MiB ranges and the last one runs past the end
# of the archive unless the size is a multiple of 32 MiB; the mock refuses such a range
# (InvalidParameterValueException), so keep the file a multiple of 32 MiB.
if [ $((file_mib % 32)) -ne 0 ] || [ "$file_mib" -lt 128 ]; then
  echo "FILE_MIB must be a multiple of 32 and at least 128 (multipart for both tools)" >&2; exit 2
fi
venv=${PYGLACIER_VENV:-$HOME/.cache/glacier-bench/venv}
cores=$(nproc)

need() { command -v "$1" >/dev/null 2>&1 || { echo "compare.sh needs $1" >&2; exit 1; }; }
need python3; need openssl; need bc
[ -x /usr/bin/time ] || { echo "compare.sh needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }
python3 -c 'import botocore.utils' 2>/dev/null ||
  { echo "compare.sh needs botocore for python3 (pip install botocore)" >&2; exit 1; }

echo "== building (release)" >&2
cargo build --release --locked --quiet --bin glacier --example mock-glacier
bin=$PWD/target/release/glacier

if [ ! -x "$venv/bin/glacier" ]; then
  echo "== installing the Python glacier_upload tool into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet glacier_upload
fi
# The mock is stricter than Glacier in one way the Python tool trips over, and rather than
# loosen the mock, the tool runs through this shim, which adjusts one header before
# botocore signs (the tool's own code is unchanged, the cost is nil): glacier_upload sends
# Content-Range "bytes a-b/TOTAL" (RFC 2616 form, which it uses against AWS), where the
# mock accepts only the "bytes a-b/*" of AWS's examples (UploadMultipartPart page). The
# shim rewrites the total to "*". (x-amz-content-sha256 needs no help: the mock requires
# it only on Upload Archive and Upload Part, per "Common Request Headers", where botocore
# sends it.)
pyshim=$(mktemp --suffix=.py /tmp/glacier-compare-shim.XXXXXX)
cat >"$pyshim" <<'PY'
import re, sys
import boto3

def star_content_range(request, **kwargs):
    rng = request.headers.get('Content-Range')
    if rng is not None and re.fullmatch(r'bytes \d+-\d+/\d+', rng):
        del request.headers['Content-Range']
        request.headers['Content-Range'] = rng.rsplit('/', 1)[0] + '/*'

boto3.setup_default_session()
boto3.DEFAULT_SESSION.events.register('before-sign.glacier', star_content_range)
from glacier_upload.cli import glacier_cli
sys.exit(glacier_cli(prog_name='glacier'))
PY
pyversion=$("$venv/bin/pip" show glacier_upload 2>/dev/null | sed -n 's/^Version: //p')
boto3version=$("$venv/bin/python" -c 'import boto3; print(boto3.__version__)')

if [ -n "${WORK:-}" ]; then mkdir -p "$WORK"; work=$(mktemp -d "$WORK/compare.XXXXXX")
else work=$(mktemp -d /dev/shm/glacier-compare.XXXXXX); fi
mock_pid=
trap '{ [ -n "$mock_pid" ] && kill $mock_pid 2>/dev/null; } || true; rm -rf "$work" "$pyshim"' EXIT

target/release/examples/mock-glacier --dir "$work/mock" --vault bench --job-polls 0 \
  >"$work/url" 2>"$work/mock.log" &
mock_pid=$!
for _ in $(seq 200); do [ -s "$work/url" ] && break; sleep 0.05; done
[ -s "$work/url" ] || { cat "$work/mock.log"; exit 1; }
export AWS_ACCESS_KEY_ID=AKIDMOCKEXAMPLE AWS_SECRET_ACCESS_KEY='mock+secret/KEY/EXAMPLE0000000000000000'
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL_GLACIER=$(head -1 "$work/url")
export AWS_EC2_METADATA_DISABLED=true XDG_DATA_HOME=$work/data
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CA_BUNDLE AWS_ENDPOINT_URL 2>/dev/null || true
# boto3 must not find a real config or credentials file on this machine.
export AWS_CONFIG_FILE=$work/no-aws-config AWS_SHARED_CREDENTIALS_FILE=$work/no-aws-credentials

echo "== generating $file_mib MiB file and a $tree_mib MiB mixed tree in $work" >&2
head -c $((file_mib << 20)) /dev/urandom >"$work/big.bin"
python3 - "$work/tree" "$tree_mib" <<'EOF'
# A mixed tree, deterministic: a third text-like (compresses well), a third random
# (incompressible), a third small files of JSON-ish records and runs of zeros, in nested
# directories, like a home directory or a project checkout.
import os, random, sys
root, mib = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
words = [''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rng.randint(2, 10)))
         for _ in range(5000)]
budget = mib << 20
third = budget // 3
def put(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)
n = 0
while n < third:                                    # text files, 64-512 KiB
    size = rng.randint(64, 512) << 10
    text = ' '.join(rng.choice(words) for _ in range(size // 6)).encode()[:size]
    put(f'{root}/docs/d{n % 7}/notes-{n}.txt', text); n += len(text)
n = 0
while n < third:                                    # random binaries, 1-8 MiB
    size = min(rng.randint(1, 8) << 20, third - n + 1)
    put(f'{root}/media/m{n % 5}/img-{n}.bin', rng.randbytes(size)); n += size
n = 0
while n < third:                                    # small files, 1-32 KiB
    size = rng.randint(1, 32) << 10
    if rng.random() < 0.3:
        data = bytes(size)
    else:
        recs = [f'{{"id": {rng.randint(0, 10**9)}, "name": "{rng.choice(words)}", "ok": true}}'
                for _ in range(size // 50)]
        data = ('\n'.join(recs)).encode()[:size]
    put(f'{root}/src/s{n % 13}/f{n % 17}/item-{n}.json', data); n += len(data)
EOF
tree_bytes=$(du -sb "$work/tree" | cut -f1)
tree_files=$(find "$work/tree" -type f | wc -l)
cat "$work/big.bin" >/dev/null   # page-cached for both tools alike

# measure NAME command...: runs it under GNU time; sets wall, cpu, rss (MiB).
measure() {
  local name=$1; shift
  if ! /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null; then
    echo "FAILED: $name: $*" >&2; tail -n 20 "$work/$name.err" >&2; return 1
  fi
  local user sys kib
  read -r wall user sys kib <"$work/time"
  cpu=$(printf '%.2f' "$(echo "$user + $sys" | bc)")
  rss=$((kib / 1024))
}
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
mbs() { printf '%.1f' "$(echo "$1 / 1048576 / $2" | bc -l)"; }   # bytes, seconds -> MiB/s
rows=()
row() { rows+=("$(printf '| %s | %s | %s | %s |' "$@")"); }

file_bytes=$((file_mib << 20))

# The same-run SHA-256 floor, one core, 1 MiB blocks (openssl prints kB/s, 1000 bytes).
floor_kbs=$(taskset -c 0 openssl speed -evp sha256 -bytes 1048576 -seconds 3 2>/dev/null |
  awk '/^sha256|^SHA256/ { v = $NF; sub(/k$/, "", v); print v }' | tail -1)
pass_s=$(echo "$file_bytes / ($floor_kbs * 1000)" | bc -l)   # CPU-s for one pass over the file
floor_label=$(printf 'SHA-256 floor %.2f GB/s on one core, %.2f CPU-s per pass' \
  "$(echo "$floor_kbs / 1000000" | bc -l)" "$pass_s")
# vs_floor CPU PASSES: CPU seconds as a multiple of PASSES SHA-256 passes over the file.
vs_floor() { printf '%.2fx' "$(echo "$1 / ($2 * $pass_s)" | bc -l)"; }

echo "== tree hash" >&2
measure th_ours "$bin" tree-hash "$work/big.bin"
o_wall=$wall o_cpu=$cpu
measure th_py python3 -c 'import sys
from botocore.utils import calculate_tree_hash
with open(sys.argv[1], "rb") as f:
    print(calculate_tree_hash(f))' "$work/big.bin"
p_wall=$wall
[ "$(cut -d' ' -f1 "$work/th_ours.out")" = "$(cat "$work/th_py.out")" ] ||
  { echo "tree hashes differ: $(cat "$work/th_ours.out") vs $(cat "$work/th_py.out")" >&2; exit 1; }
limit_kbs=$(openssl speed -evp sha256 -bytes 1048576 -multi "$cores" -seconds 3 2>/dev/null |
  awk '/^sha256/ {print $NF}' | tr -d k | tail -1)
limit_mbs=$(echo "scale=0; $limit_kbs * 1000 / 1048576" | bc)
row "tree hash, $file_mib MiB (page-cached)" \
  "$(mbs $file_bytes $o_wall) MiB/s ($o_wall s, $o_cpu CPU-s)" \
  "$(mbs $file_bytes $p_wall) MiB/s ($p_wall s)" \
  "Python/glacier time $(ratio $p_wall $o_wall)x; glacier/openssl limit ($limit_mbs MiB/s, $cores cores, wall: low on a loaded machine) $(ratio "$(mbs $file_bytes $o_wall)" $limit_mbs); glacier CPU / floor (1 pass) $(vs_floor $o_cpu 1)"

echo "== upload $file_mib MiB" >&2
measure up_ours "$bin" --quiet upload -p 8 --no-receipts bench "$work/big.bin"
archive=$(cat "$work/up_ours.out")
o_wall=$wall o_cpu=$cpu o_rss=$rss
measure up_py "$venv/bin/python" "$pyshim" upload -p 8 bench "$work/big.bin"
grep -q '^Archive ID: ' "$work/up_py.out" || { echo "Python upload printed no archive ID" >&2; exit 1; }
p_wall=$wall p_cpu=$cpu p_rss=$rss
row "upload $file_mib MiB, 8 MiB parts: wall" "$o_wall s ($(mbs $file_bytes $o_wall) MiB/s)" \
  "$p_wall s ($(mbs $file_bytes $p_wall) MiB/s)" "$(ratio $p_wall $o_wall)x"
row "upload: client CPU (user+sys)" "$o_cpu s" "$p_cpu s" "$(ratio $p_cpu $o_cpu)x"
row "upload: CPU / floor (2 SHA-256 passes)" "$(vs_floor $o_cpu 2)" "$(vs_floor $p_cpu 2)" "$floor_label"
row "upload: peak RSS" "$o_rss MiB" "$p_rss MiB" "$(ratio $p_rss $o_rss)x"

echo "== archive get $file_mib MiB" >&2
job=$("$bin" archive init-retrieval bench -- "$archive")
measure get_ours "$bin" --quiet archive get bench "$job" "$work/back-ours.bin"
o_wall=$wall o_cpu=$cpu o_rss=$rss
rm -f "$work/back-py.bin"
measure get_py "$venv/bin/python" "$pyshim" archive get bench "$job" "$work/back-py.bin"
p_wall=$wall p_cpu=$cpu p_rss=$rss
cmp "$work/big.bin" "$work/back-ours.bin"
cmp "$work/big.bin" "$work/back-py.bin"
rm -f "$work/back-ours.bin" "$work/back-py.bin"
row "archive get $file_mib MiB: wall" "$o_wall s ($(mbs $file_bytes $o_wall) MiB/s)" \
  "$p_wall s ($(mbs $file_bytes $p_wall) MiB/s)" "$(ratio $p_wall $o_wall)x"
row "archive get: client CPU (user+sys)" "$o_cpu s" "$p_cpu s" "$(ratio $p_cpu $o_cpu)x"
row "archive get: CPU / floor (1 SHA-256 pass)" "$(vs_floor $o_cpu 1)" "$(vs_floor $p_cpu 1)" "$floor_label"
row "archive get: peak RSS" "$o_rss MiB" "$p_rss MiB" "$(ratio $p_rss $o_rss)x"

tree_label="$((tree_bytes >> 20)) MiB, $tree_files files"
for preset in $presets; do
  echo "== packing, xz preset $preset" >&2
  measure pack_ours "$bin" --quiet --json upload --xz-level "$preset" --no-receipts bench "$work/tree"
  o_wall=$wall o_cpu=$cpu o_rss=$rss
  o_size=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])' <"$work/pack_ours.out")
  # Relative member names, like glacier's: cd into the tree's parent.
  measure pack_py python3 -c 'import os, sys, tarfile
os.chdir(os.path.dirname(sys.argv[1]))
with tarfile.open(sys.argv[2], "w:xz", preset=int(sys.argv[3])) as t:
    t.add(os.path.basename(sys.argv[1]))' "$work/tree" "$work/py.tar.xz" "$preset"
  p_wall=$wall p_cpu=$cpu p_rss=$rss
  p_size=$(stat -c %s "$work/py.tar.xz"); rm -f "$work/py.tar.xz"
  row "pack $tree_label, xz -$preset: wall" \
    "$o_wall s, $(mbs $tree_bytes $o_wall) MiB/s, $((o_size * 100 / tree_bytes))% size (packed + uploaded)" \
    "$p_wall s, $(mbs $tree_bytes $p_wall) MiB/s, $((p_size * 100 / tree_bytes))% size (tarfile, packed only)" \
    "$(ratio $p_wall $o_wall)x"
  row "pack xz -$preset: CPU, peak RSS" "$o_cpu CPU-s, $o_rss MiB" "$p_cpu CPU-s, $p_rss MiB" \
    "CPU $(ratio $p_cpu $o_cpu)x, RSS $(ratio $p_rss $o_rss)x"
done

echo
echo "$(date -u +%F), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $cores cores," \
  "$(free -g | awk '/^Mem/ {print $2}') GiB RAM, $(uname -sr); glacier $("$bin" --version | awk '{print $NF}')," \
  "Python $(python3 -c 'import platform; print(platform.python_version())') with glacier_upload $pyversion (boto3 $boto3version)," \
  "botocore $(python3 -c 'import botocore; print(botocore.__version__)'), $(openssl version | cut -d' ' -f1-2); mock on 127.0.0.1, files on $(df --output=fstype "$work" | tail -1)"
echo
echo "| measure | glacier | Python | ratio |"
echo "| --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
