//! Throughput of the SHA-256 implementations available to glacier-upload, on one core,
//! hashing 1 MiB messages (a tree-hash leaf, and the block size `openssl speed
//! -bytes 1048576` uses): sha2 as built (with or without its `asm` feature, see
//! `benches/sha256.sh`) and ring's `digest`. Prints one line per implementation:
//! `NAME GB/s` (10^9 bytes per CPU-second of this thread, best of several rounds).
//!
//! CPU time, not wall time, like `openssl speed` (which divides by user CPU time unless
//! given `-elapsed`): on a shared machine wall time measures the neighbours. It is read
//! from `/proc/thread-self/schedstat` (nanoseconds on the CPU; Linux), which needs no
//! unsafe code.

use std::hint::black_box;

const MSG: usize = 1 << 20;
const MSGS: usize = 256;
const ROUNDS: usize = 5;

fn main() {
    let mut x = 0x1234_5678_9abc_def1u64;
    let data: Vec<u8> = (0..MSG * 8)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let sha2_name = if cfg!(feature = "asm") {
        "sha2+asm"
    } else {
        "sha2"
    };
    report(sha2_name, &data, |m| {
        use sha2::Digest;
        sha2::Sha256::digest(m).into()
    });
    report("ring", &data, |m| {
        let d = ring::digest::digest(&ring::digest::SHA256, m);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        out
    });
}

/// Hashes `MSGS` messages of 1 MiB taken round-robin from `data`, `ROUNDS` times, and
/// prints the best rate.
fn report(name: &str, data: &[u8], hash: impl Fn(&[u8]) -> [u8; 32]) {
    let chunks: Vec<&[u8]> = data.chunks(MSG).collect();
    // Every implementation must agree on the bytes, or its speed means nothing.
    assert_eq!(
        hash(chunks[0])[..4],
        {
            use sha2::Digest;
            let h: [u8; 32] = sha2::Sha256::digest(chunks[0]).into();
            h
        }[..4]
    );
    let mut best = f64::MAX;
    for _ in 0..ROUNDS {
        let t = cpu_ns();
        for i in 0..MSGS {
            black_box(hash(black_box(chunks[i % chunks.len()])));
        }
        best = best.min((cpu_ns() - t) as f64 / 1e9);
    }
    println!("{name:<10} {:.2} GB/s", (MSG * MSGS) as f64 / best / 1e9);
}

/// Nanoseconds this thread has spent on a CPU (first field of its schedstat).
fn cpu_ns() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("read /proc/thread-self/schedstat (Linux only)");
    s.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .expect("schedstat starts with a number")
}
