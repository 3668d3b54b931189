//! Shared pieces of the fuzz targets: the obviously-correct tree-hash definition the
//! fast code is checked against, and a way to turn a small fuzz input into megabytes of
//! data (tree hashes only get interesting past 1 MiB, far beyond libFuzzer's input size).

use sha2::{Digest, Sha256};

/// SHA-256 of every 1 MiB chunk, then pairwise up to the root, an odd node carried up.
pub fn reference_tree_hash(data: &[u8]) -> [u8; 32] {
    let mut level: Vec<[u8; 32]> = if data.is_empty() {
        vec![Sha256::digest(b"").into()]
    } else {
        data.chunks(1 << 20)
            .map(|c| Sha256::digest(c).into())
            .collect()
    };
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|p| match p {
                [l, r] => {
                    let mut h = Sha256::new();
                    h.update(l);
                    h.update(r);
                    h.finalize().into()
                }
                [one] => *one,
                _ => unreachable!(),
            })
            .collect();
    }
    level[0]
}

/// Brute-force alignment: the whole archive, or some node `[k·2^n MiB, min((k+1)·2^n MiB, size))`.
pub fn reference_aligned(start: u64, end: u64, size: u64) -> bool {
    if end < start || end >= size {
        return false;
    }
    if start == 0 && end + 1 == size {
        return true;
    }
    (0..44).any(|n| {
        let block = (1u64 << 20) << n;
        start.is_multiple_of(block) && end + 1 == start.saturating_add(block).min(size)
    })
}

/// Expands `seed` into `len` pseudo-random bytes (xorshift), so small inputs describe
/// multi-MiB data.
pub fn expand(seed: &[u8], len: usize) -> Vec<u8> {
    let mut x = seed.iter().fold(0x9E37_79B9_7F4A_7C15u64, |a, &b| {
        (a ^ b as u64).wrapping_mul(0x100_0000_01B3)
    }) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Structured inputs: the `arbitrary` crate libFuzzer already brings.
pub use libfuzzer_sys::arbitrary::{self, Unstructured};

/// A string of at most `max` characters, each picked from `alphabet`, so generated values
/// stay within the grammar a round-trip needs while still hitting its edge characters.
pub fn string_from(
    u: &mut Unstructured,
    alphabet: &[char],
    max: usize,
) -> arbitrary::Result<String> {
    let len = u.int_in_range(0..=max)?;
    (0..len).map(|_| u.choose(alphabet).copied()).collect()
}

/// Like [`string_from`], but at least one character long.
pub fn nonempty_from(
    u: &mut Unstructured,
    alphabet: &[char],
    max: usize,
) -> arbitrary::Result<String> {
    let first = *u.choose(alphabet)?;
    let rest = string_from(u, alphabet, max.saturating_sub(1))?;
    Ok(format!("{first}{rest}"))
}

/// A permutation of `items` chosen by the input (Fisher-Yates).
pub fn shuffle<T>(u: &mut Unstructured, items: &mut [T]) -> arbitrary::Result<()> {
    for i in (1..items.len()).rev() {
        let j = u.int_in_range(0..=i)?;
        items.swap(i, j);
    }
    Ok(())
}
