//! Sharing one memory budget (`upload --max-memory`) between the upload's part buffers
//! and the packer (the xz encoder and its pipe). Pure arithmetic over
//! [`Options::fit_memory`]; knows nothing of files or of how parts are sent.

use super::compress::{Compression, Options, PIPE_MEMORY};
use crate::error::{Error, Result, Setting};

const MIB: u64 = 1 << 20;

/// What [`fit_beside_parts`] chose: the parts in flight and the packing options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Parts in flight, at least 1.
    pub parts: usize,
    /// The packing options, their encoder fitted to what the parts leave.
    pub options: Options,
}

impl Budget {
    /// Memory the packer holds at most: its encoder plus the pipe to the reader. What is
    /// left of the budget is the upload's, for its part buffers.
    pub fn packer_memory(&self) -> u64 {
        self.options.memory_usage().saturating_add(PIPE_MEMORY)
    }
}

/// Fits the packer beside `parts` part buffers of `part_size` bytes within `max_memory`.
///
/// The parts come first (`parts` is what the upload would send at once, as
/// `upload::plan::threads_for_memory` capped it) and the encoder's threads take the rest
/// ([`Options::fit_memory`]: the threaded encoder with fewer threads, else liblzma's
/// single-threaded one). When not even that fits beside them, fewer parts go at once,
/// down to one, as `threads_for_memory` caps parts by memory rather than refusing.
/// Only when the packer does not fit beside a single part is it an error: one line with
/// what each needs and the `--max-memory` that would do.
pub fn fit_beside_parts(
    opts: Options,
    parts: usize,
    part_size: u64,
    max_memory: u64,
) -> Result<Budget> {
    opts.validate()?;
    for parts in (1..=parts.max(1)).rev() {
        let held = (parts as u64).saturating_mul(part_size);
        if held > max_memory {
            continue;
        }
        if let Ok(options) = opts.fit_memory(max_memory - held) {
            return Ok(Budget { parts, options });
        }
    }
    Err(too_small(opts, part_size, max_memory))
}

/// The error when the packer's smallest encoder does not fit beside one part.
fn too_small(opts: Options, part_size: u64, max_memory: u64) -> Error {
    let smallest = |single_threaded| {
        Options {
            threads: 1,
            single_threaded,
            ..opts
        }
        .memory_usage()
            + PIPE_MEMORY
    };
    let need = smallest(false).min(smallest(true));
    let (what, ways) = match opts.compression {
        Compression::Xz => (
            format!("packing at {} {}", Setting::XzLevel, opts.xz_level),
            format!(
                ", a lower {}, or {} none",
                Setting::XzLevel,
                Setting::Compression
            ),
        ),
        Compression::None => (
            "packing".to_string(),
            format!(" or a smaller {}", Setting::PartSize),
        ),
    };
    Error::Usage(format!(
        "{what} needs {} MiB beside one {} MiB part in flight, but {mm} is {} MiB (use {mm} {} or more{ways})",
        need.div_ceil(MIB),
        part_size.div_ceil(MIB),
        max_memory / MIB,
        (need + part_size).div_ceil(MIB),
        mm = Setting::MaxMemory,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_6_in_128_mib_keeps_three_parts_and_the_single_threaded_encoder() {
        // The case: four 8 MiB parts (32 MiB) leave 96, under the 100 the
        // single-threaded encoder and the pipe need; three parts leave 104.
        let b = fit_beside_parts(Options::xz(6, 2), 4, 8 * MIB, 128 * MIB).expect("fits");
        assert_eq!(b.parts, 3);
        assert!(b.options.single_threaded);
        assert_eq!(b.packer_memory(), 100 * MIB);
        assert!(b.parts as u64 * 8 * MIB + b.packer_memory() <= 128 * MIB);
        // One part more would not have fit.
        assert!(4 * 8 * MIB + b.packer_memory() > 128 * MIB);
    }

    #[test]
    fn the_parts_come_first_when_the_encoder_fits_beside_them() {
        let b = fit_beside_parts(Options::xz(0, 2), 4, 8 * MIB, 512 * MIB).expect("fits");
        assert_eq!(b.parts, 4);
        assert_eq!(b.options, Options::xz(0, 2));
        let b = fit_beside_parts(Options::xz(6, 1), 4, 8 * MIB, 512 * MIB).expect("fits");
        assert_eq!((b.parts, b.options), (4, Options::xz(6, 1)));
        // The threaded encoder's thread count gives before any part does.
        let one = Options::xz(6, 1).memory_usage() + PIPE_MEMORY;
        let b = fit_beside_parts(Options::xz(6, 4), 4, 8 * MIB, 32 * MIB + one).expect("fits");
        assert_eq!((b.parts, b.options), (4, Options::xz(6, 1)));
    }

    #[test]
    fn the_error_names_the_need_and_the_flag_to_change() {
        match fit_beside_parts(Options::xz(6, 4), 4, 8 * MIB, 64 * MIB) {
            Err(Error::Usage(m)) => {
                assert!(
                    m.contains(&format!("{} 6 needs 100 MiB", Setting::XzLevel)),
                    "{m}"
                );
                assert!(m.contains("one 8 MiB part"), "{m}");
                assert!(
                    m.contains(&format!("{} 108 or more", Setting::MaxMemory)),
                    "{m}"
                );
                assert!(!m.contains('\n'), "{m}");
            }
            other => panic!("{other:?}"),
        }
        // The figure it names is enough.
        let b = fit_beside_parts(Options::xz(6, 4), 4, 8 * MIB, 108 * MIB).expect("fits");
        assert_eq!(b.parts, 1);
        let plain = Options {
            compression: Compression::None,
            ..Options::xz(0, 1)
        };
        match fit_beside_parts(plain, 4, 8 * MIB, 8 * MIB) {
            Err(Error::Usage(m)) => assert!(
                m.contains(&format!("{} 14 or more", Setting::MaxMemory)),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
    }
}
