#!/usr/bin/env bash
# Where the TLS download overhead goes (TLS is what users run; on demand, not in CI). `benches/e2e.sh` measured `archive get` over HTTPS at +0.32..0.50 client CPU-s/GiB
# above plain HTTP, against a target of 0.25. The HTTPS mock is the plain mock behind a
# rustls front that forwards in 64 KiB plaintext pieces (tests/mock/tls.rs), so part of
# the difference could be that front's segment pattern rather than our client's TLS.
# This runs the same `archive get` three ways, each job on the server it was made on:
#
#   plain    client -> plain mock
#   forward  client -> plaintext forwarder (64 KiB pieces, like the TLS front) -> plain mock
#   tls      client -> rustls front (mock-glacier --tls) -> plain mock
#
# and reports client CPU (GNU time: user, sys) per GiB and, in a second run of each under
# `strace -f -c`, the client's socket read syscalls and bytes per read. The floors come from
# the same run, one core: `openssl speed -evp sha256` (the download's one hash pass) and
# `openssl speed -evp aes-256-gcm` (the TLS 1.3 suite rustls negotiates with itself,
# TLS13_AES_256_GCM_SHA384: every byte is decrypted once).
#
#   bash benches/tls_split.sh [SIZE_MIB] [THREADS]      (defaults: 512 4)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-512}
threads=${2:-4}
command -v strace >/dev/null || { echo "tls_split.sh needs strace" >&2; exit 1; }

cargo build --release --locked --quiet --bin glacier --example mock-glacier
bin=$PWD/target/release/glacier
work=$(mktemp -d /dev/shm/glacier-tls-split.XXXXXX)   # tmpfs: the disk is not measured
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

start_mock() { # name, extra args...: starts a mock, prints its URL
  local name=$1; shift
  target/release/examples/mock-glacier --dir "$work/$name" --vault bench --job-polls 0 "$@" \
    >"$work/url-$name" 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 200); do [ -s "$work/url-$name" ] && break; sleep 0.05; done
  head -1 "$work/url-$name"
}
plain_url=$(start_mock plain)
tls_url=$(start_mock tls --tls)
# The plaintext forwarder: one thread per direction per connection, 64 KiB reads, as the
# TLS front does (its back thread reads 64 KiB from the mock and writes it on).
python3 - "${plain_url##*:}" >"$work/url-forward" 2>"$work/forward.log" <<'PY' &
import socket, sys, threading
backend = ('127.0.0.1', int(sys.argv[1]))
lst = socket.socket(); lst.bind(('127.0.0.1', 0)); lst.listen(64)
print(f'http://127.0.0.1:{lst.getsockname()[1]}', flush=True)
def pump(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    finally:
        try: dst.shutdown(socket.SHUT_WR)
        except OSError: pass
while True:
    c, _ = lst.accept()
    b = socket.create_connection(backend)
    for s, d in ((c, b), (b, c)):
        threading.Thread(target=pump, args=(s, d), daemon=True).start()
PY
pids+=($!)
for _ in $(seq 200); do [ -s "$work/url-forward" ] && break; sleep 0.05; done
forward_url=$(head -1 "$work/url-forward")

export AWS_ACCESS_KEY_ID=AKIDMOCKEXAMPLE AWS_SECRET_ACCESS_KEY='mock+secret/KEY/EXAMPLE0000000000000000'
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true XDG_DATA_HOME=$work/data
unset AWS_CA_BUNDLE
head -c $((size_mib << 20)) /dev/urandom >"$work/src.bin"
gib=$(echo "scale=6; $size_mib / 1024" | bc)
ca=$PWD/tests/data/tls/ca.pem

# Jobs: the plain mock's serves "plain" and "forward" (same storage), the TLS mock's "tls".
on() { # plain|forward|tls: sets the endpoint
  case $1 in
    plain) export AWS_ENDPOINT_URL_GLACIER=$plain_url; unset AWS_CA_BUNDLE ;;
    forward) export AWS_ENDPOINT_URL_GLACIER=$forward_url; unset AWS_CA_BUNDLE ;;
    tls) export AWS_ENDPOINT_URL_GLACIER=$tls_url AWS_CA_BUNDLE=$ca ;;
  esac
}
declare -A job
on plain; a=$("$bin" --quiet upload -t "$threads" --no-receipts bench "$work/src.bin")
job[plain]=$("$bin" archive init-retrieval bench -- "$a"); job[forward]=${job[plain]}
on tls; a=$("$bin" --quiet upload -t "$threads" --no-receipts bench "$work/src.bin")
job[tls]=$("$bin" archive init-retrieval bench -- "$a")

floor() { # openssl speed's 1 MiB / 16 KiB column on one core, in CPU-s per GiB
  taskset -c 0 openssl speed -evp "$1" -bytes "$2" -seconds 3 2>/dev/null |
    awk -v alg="$1" 'tolower($1) == alg || $1 == "AES-256-GCM" { v = $NF; sub(/k$/, "", v); r = v } END { printf "%.3f", 1073741824 / (r * 1000) }'
}
sha=$(floor sha256 1048576)
aes=$(floor aes-256-gcm 16384)
echo "== archive get $size_mib MiB, $threads threads, $(nproc) cores, $(date -u '+%F %H:%M'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "floors, one core, same run: SHA-256 $sha CPU-s/GiB (1 MiB blocks), AES-256-GCM $aes CPU-s/GiB (16 KiB records)"
printf '%-8s %9s %9s %9s %8s %12s %10s\n' way 'CPU-s/GiB' user sys 'x SHA' 'socket reads' 'bytes/read'
declare -A cpu
for way in plain forward tls plain forward tls; do
  on "$way"
  rm -f "$work/back.bin"
  /usr/bin/time -f '%U %S' -o "$work/time" \
    "$bin" --quiet archive get -t "$threads" bench "${job[$way]}" "$work/back.bin"
  cmp -s "$work/src.bin" "$work/back.bin" || { echo "$way: round trip differs" >&2; exit 1; }
  read -r user sys <"$work/time"
  # Syscall counts in a separate run: strace's own cost would distort the CPU figures.
  rm -f "$work/back.bin"
  strace -f -qq -c -o "$work/strace" -e trace=read,recvfrom,recvmsg \
    "$bin" --quiet archive get -t "$threads" bench "${job[$way]}" "$work/back.bin"
  reads=$(awk '$NF ~ /^(read|recvfrom|recvmsg)$/ { n += $4 } END { print n + 0 }' "$work/strace")
  per=$(echo "($user + $sys) / $gib" | bc -l)
  cpu[$way]=$per
  printf '%-8s %9.3f %9.2f %9.2f %7.2fx %12d %10.0f\n' "$way" "$per" "$user" "$sys" \
    "$(echo "$per / $sha" | bc -l)" "$reads" "$(echo "$size_mib * 1048576 / $reads" | bc -l)"
done
printf 'last round: TLS adds %+.3f CPU-s/GiB over plain, %+.3f over the forwarder (AES floor %s)\n' \
  "$(echo "${cpu[tls]} - ${cpu[plain]}" | bc -l)" "$(echo "${cpu[tls]} - ${cpu[forward]}" | bc -l)" "$aes"
