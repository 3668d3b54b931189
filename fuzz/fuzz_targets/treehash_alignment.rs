//! The alignment helper agrees with the brute-force definition for any range and size.
#![no_main]

use glacier_upload::treehash::is_tree_hash_aligned;
use glacier_upload_fuzz::reference_aligned;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: [u64; 3]| {
    // Bias towards MiB-ish values so aligned cases are common: low bits come from the
    // top byte, the rest is a MiB multiple.
    let mib = |v: u64| {
        let base = (v >> 8) % (1 << 24);
        match v & 3 {
            0 => base << 20,
            1 => (base << 20).saturating_sub(1),
            2 => (base << 20) + 1,
            _ => v,
        }
    };
    let (start, end, size) = (mib(input[0]), mib(input[1]), mib(input[2]));
    assert_eq!(
        is_tree_hash_aligned(start, end, size),
        reference_aligned(start, end, size),
        "start {start} end {end} size {size}"
    );
});
