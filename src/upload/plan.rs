//! The pure part planner: part sizes, part counts and the rules Glacier sets for them.
//! No files, no network.

use crate::error::{Error, Result, Setting};
use crate::treehash::{CHUNK_SIZE, is_valid_part_size};

const MIB: u64 = CHUNK_SIZE;

/// Below this, one UploadArchive request; from here on, a multipart upload (AWS
/// recommends multipart above 100 MB).
pub const SINGLE_REQUEST_LIMIT: u64 = 100 * MIB;

/// Glacier allows at most this many parts per upload.
pub const MAX_PARTS: u64 = 10_000;

/// The smallest default part size: fewer, larger requests than 1 MiB parts, small
/// enough that a retry resends little.
pub const MIN_DEFAULT_PART_SIZE: u64 = 8 * MIB;

/// The part size for a stream whose size is unknown (stdin): 64 MiB parts allow
/// archives up to 625 GiB; a larger stream needs `--part-size`.
pub const STREAM_PART_SIZE: u64 = 64 * MIB;

/// The largest archive: 10,000 parts of 4 GiB.
pub const MAX_ARCHIVE_SIZE: u64 = MAX_PARTS * 4096 * MIB;

/// The default part size for `size` bytes: the smallest power of two MiB that is at
/// least 8 MiB and fits the archive in 10,000 parts.
pub fn default_part_size(size: u64) -> u64 {
    let mut p = MIN_DEFAULT_PART_SIZE;
    while p < 4096 * MIB && size.div_ceil(p) > MAX_PARTS {
        p *= 2;
    }
    p
}

/// Number of parts for `size` bytes in parts of `part_size` (at least one).
pub fn part_count(size: u64, part_size: u64) -> u64 {
    size.div_ceil(part_size).max(1)
}

/// Checks a part size given in MiB on the command line and returns it in bytes.
pub fn part_size_from_mib(mib: u64) -> Result<u64> {
    let bytes = mib.checked_mul(MIB).unwrap_or(0);
    if !is_valid_part_size(bytes) {
        return Err(Error::Usage(format!(
            "{} {mib}: must be a power of two from 1 to 4096 (MiB)",
            Setting::PartSize
        )));
    }
    Ok(bytes)
}

/// Checks that `size` bytes fit in 10,000 parts of `part_size`.
pub fn check_fits(size: u64, part_size: u64, what: &str) -> Result<()> {
    if size > MAX_ARCHIVE_SIZE {
        return Err(Error::Input(format!(
            "{what} is {size} bytes: larger than Glacier's largest archive (10,000 parts of 4 GiB)"
        )));
    }
    let parts = part_count(size, part_size);
    if parts > MAX_PARTS {
        return Err(Error::Input(format!(
            "{what} would need {parts} parts of {} MiB; Glacier allows 10,000: use {} {} or more",
            part_size / MIB,
            Setting::PartSize,
            default_part_size(size) / MIB
        )));
    }
    Ok(())
}

/// How many parts may be in flight: the thread count, capped so that
/// `threads × part_size` stays within `max_memory`. When the part size was chosen
/// automatically (a 5 TiB file needs 1 GiB parts) and one part alone is above
/// `max_memory`, one part goes at a time rather than refusing a file the defaults should
/// handle; only a `--part-size` the user gave that cannot fit is an error.
pub fn threads_for_memory(
    threads: usize,
    part_size: u64,
    max_memory: u64,
    part_size_given: bool,
) -> Result<usize> {
    let fit = (max_memory / part_size) as usize;
    if fit == 0 && !part_size_given {
        return Ok(1);
    }
    if fit == 0 {
        return Err(Error::Usage(format!(
            "{} {} MiB is larger than {} {} MiB",
            Setting::PartSize,
            part_size / MIB,
            Setting::MaxMemory,
            max_memory / MIB
        )));
    }
    Ok(threads.clamp(1, fit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_part_sizes() {
        assert_eq!(default_part_size(1), 8 * MIB);
        assert_eq!(default_part_size(80_000 * MIB), 8 * MIB);
        assert_eq!(default_part_size(80_000 * MIB + 1), 16 * MIB);
        assert_eq!(default_part_size(MAX_ARCHIVE_SIZE), 4096 * MIB);
    }

    #[test]
    fn part_size_and_fit_errors_name_the_flag() {
        assert_eq!(part_size_from_mib(8).expect("ok"), 8 * MIB);
        assert!(part_size_from_mib(3).is_err());
        assert!(part_size_from_mib(0).is_err());
        assert!(part_size_from_mib(8192).is_err());
        let e = check_fits(20_000 * MIB, MIB, "FILE x").expect_err("too many");
        assert!(
            e.to_string().contains(&format!("{} 8", Setting::PartSize)),
            "{e}"
        );
        assert!(check_fits(10_000 * MIB, MIB, "x").is_ok());
    }

    #[test]
    fn memory_caps_threads() {
        assert_eq!(
            threads_for_memory(4, 8 * MIB, 512 * MIB, true).expect("ok"),
            4
        );
        assert_eq!(
            threads_for_memory(8, 128 * MIB, 512 * MIB, false).expect("ok"),
            4
        );
        // The user's own --part-size above --max-memory: a contradiction to report.
        let e = threads_for_memory(4, 1024 * MIB, 512 * MIB, true).expect_err("conflict");
        assert!(
            e.to_string().contains(&Setting::MaxMemory.to_string()),
            "{e}"
        );
    }

    #[test]
    fn five_tib_with_default_flags_goes_one_part_at_a_time() {
        let size = 5u64 << 40;
        let part = default_part_size(size);
        assert_eq!(part, 1024 * MIB);
        assert!(check_fits(size, part, "x").is_ok());
        assert_eq!(
            threads_for_memory(4, part, 512 * MIB, false).expect("ok"),
            1
        );
    }
}
