//! Tree-hash throughput: one thread on a buffer, the parallel file hasher on a page-cached
//! file with 1 and all threads, and plain SHA-256 of the same buffer as the baseline
//! measured in the same run; an upload part's two hashes (linear and tree) in one pass
//! against the same two as separate passes. Run: `cargo bench --bench treehash`.

use std::io::Write;
use std::sync::LazyLock;

use divan::counter::BytesCount;
use glacier_upload::filehash::{self, Options};
use sha2::{Digest, Sha256};

const LEN: usize = 256 << 20;

static DATA: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut x = 0x1234_5678_9abc_def1u64;
    (0..LEN)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
});

static FILE: LazyLock<std::fs::File> = LazyLock::new(|| {
    let path = std::env::temp_dir().join(format!("glacier-bench-{}", std::process::id()));
    let mut f = std::fs::File::create(&path).expect("create bench file");
    f.write_all(&DATA).expect("write bench file");
    let f = std::fs::File::open(&path).expect("open bench file");
    std::fs::remove_file(&path).expect("unlink bench file");
    f
});

fn main() {
    divan::main();
}

/// Baseline: plain SHA-256 of the buffer, one thread.
#[divan::bench(sample_count = 10)]
fn sha256_baseline(b: divan::Bencher) {
    let data = &*DATA;
    b.counter(BytesCount::new(LEN))
        .bench(|| Sha256::digest(divan::black_box(data)));
}

/// Tree hash of the buffer, one thread.
#[divan::bench(sample_count = 10)]
fn tree_hash_buffer(b: divan::Bencher) {
    let data = &*DATA;
    b.counter(BytesCount::new(LEN))
        .bench(|| glacier_upload::treehash::tree_hash(divan::black_box(data)));
}

/// What an upload part needs the old way: the linear SHA-256 and the tree hash as two
/// separate passes (the baseline for `part_hash`).
#[divan::bench(sample_count = 10)]
fn linear_and_tree_separately(b: divan::Bencher) {
    let data = &*DATA;
    b.counter(BytesCount::new(LEN)).bench(|| {
        (
            Sha256::digest(divan::black_box(data)),
            glacier_upload::treehash::tree_hash(divan::black_box(data)),
        )
    });
}

/// The same two hashes in one pass (`LinearTreeHasher`: on SHA-NI, two states with their
/// rounds interleaved over one message schedule).
#[divan::bench(sample_count = 10)]
fn part_hash(b: divan::Bencher) {
    let data = &*DATA;
    b.counter(BytesCount::new(LEN)).bench(|| {
        let mut h = glacier_upload::treehash::LinearTreeHasher::new();
        h.update(divan::black_box(data));
        h.finish()
    });
}

/// Tree hash of a page-cached file with positioned reads: 1 thread and all cores.
#[divan::bench(sample_count = 10, args = [1, 0])]
fn tree_hash_file(b: divan::Bencher, threads: usize) {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    let file = &*FILE;
    b.counter(BytesCount::new(LEN)).bench(|| {
        filehash::hash_file(
            file,
            LEN as u64,
            Options {
                threads,
                sha256: false,
                progress: None,
            },
        )
        .expect("hash")
    });
}

/// One thread, positioned reads of different sizes into a reused page-aligned buffer:
/// how much the copy out of the page cache costs at each size (the file hasher uses
/// `filehash::READ_SIZE`).
#[divan::bench(sample_count = 10, args = [256 << 10, 1 << 20, 4 << 20, 16 << 20])]
fn read_size(b: divan::Bencher, size: usize) {
    let file = &*FILE;
    let mut buf = filehash::AlignedBuf::new(size);
    b.counter(BytesCount::new(LEN)).bench_local(|| {
        filehash::tree_hash_range(file, 0, LEN as u64, &mut buf, None).expect("hash")
    });
}

/// The same with a 4 MiB buffer as malloc returns it (16 bytes past a page boundary):
/// why `AlignedBuf` exists.
#[divan::bench(sample_count = 10)]
fn read_unaligned_4mib(b: divan::Bencher) {
    let file = &*FILE;
    let mut raw = vec![0u8; (4 << 20) + 4096];
    let off = 16 + raw.as_ptr().align_offset(4096).min(4096 - 16);
    let buf = &mut raw[off..off + (4 << 20)];
    b.counter(BytesCount::new(LEN))
        .bench_local(|| filehash::tree_hash_range(file, 0, LEN as u64, buf, None).expect("hash"));
}
