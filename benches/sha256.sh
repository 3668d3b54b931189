#!/usr/bin/env bash
# SHA-256 implementations side by side, one core, 1 MiB messages, in the same run as
# the floor the other benches use: `openssl speed -evp sha256 -bytes 1048576`.
# sha2 is built twice (default, which detects SHA-NI at run time, and with its `asm`
# feature), ring once. The bench is a crate of its own (benches/sha256/): see its
# Cargo.toml for why.
#
#   bash benches/sha256.sh
set -euo pipefail
cd "$(dirname "$0")/sha256"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/../../target/sha256-bench}
cargo build --release --quiet
"$CARGO_TARGET_DIR/release/sha256-bench"
if cargo build --release --quiet --features asm 2>/dev/null; then
  "$CARGO_TARGET_DIR/release/sha256-bench" | grep '^sha2+asm'
else
  echo "sha2+asm   (does not build here)"
fi
# openssl prints kB/s (1000 bytes) for each block size; take the 1 MiB column.
taskset -c 0 openssl speed -evp sha256 -bytes 1048576 -seconds 3 2>/dev/null |
  awk '/^sha256|^SHA256/ { v = $NF; sub(/k$/, "", v); printf "openssl    %.2f GB/s\n", v / 1e6 }'
