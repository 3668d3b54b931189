//! The part file of a chunked download, written and read back around the page cache
//! where the filesystem allows it (`O_DIRECT`).
//!
//! Why: a buffered write allocates, accounts and fills a page-cache page for every 4 KiB
//! of the archive, and the read-back then copies it out again; on a 1 GiB download that
//! was most of the client's system time (docs/benchmarks.md, "Where `archive get`'s time
//! goes"). A direct write hands the block to the device as it is, and the direct
//! read-back asks the device for it again, so the hash that is compared with Glacier's is
//! of what the disk returned, not of what the page cache kept: a stronger check for less
//! CPU, at the cost of a device read per byte.
//!
//! A block goes direct only when its buffer, length and offset are all multiples of
//! [`ALIGN`] (every whole block of a chunk is; an archive's unaligned tail is written
//! through the cache). A filesystem that cannot open the file for direct I/O, or refuses
//! a direct transfer (`EINVAL`), gets buffered I/O for the rest of the download; tmpfs
//! takes `O_DIRECT` and serves it from the cache, as before. The two handles are one
//! inode (checked), so a sync through either covers both.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Alignment of a direct transfer's buffer, length and offset: the page size, a multiple
/// of every logical block size in common use (512 and 4,096 bytes).
pub(super) const ALIGN: usize = 4096;

/// `O_DIRECT` for the targets we build (its value differs by architecture).
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "riscv64", target_arch = "x86")
))]
const O_DIRECT: Option<i32> = Some(0o40000);
#[cfg(all(target_os = "linux", any(target_arch = "aarch64", target_arch = "arm")))]
const O_DIRECT: Option<i32> = Some(0o200000);
#[cfg(not(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "riscv64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm"
    )
)))]
const O_DIRECT: Option<i32> = None;

/// `EINVAL`: what Linux answers a direct transfer the filesystem cannot do.
const EINVAL: i32 = 22;

/// The part file: the buffered handle, and a direct one to the same inode while the
/// filesystem takes direct transfers.
pub(super) struct PartFile {
    file: File,
    direct: Option<File>,
    /// Cleared at the first direct transfer the filesystem refuses.
    direct_on: AtomicBool,
}

impl PartFile {
    /// `file` (opened from `path`) with a second, direct handle to the same file where
    /// the filesystem allows one.
    pub(super) fn open(file: File, path: &Path) -> PartFile {
        let direct = O_DIRECT.and_then(|flag| {
            let d = OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(flag)
                .open(path)
                .ok()?;
            let (a, b) = (d.metadata().ok()?, file.metadata().ok()?);
            // Another file swapped in at `path` since `file` was opened: no direct I/O.
            ((a.dev(), a.ino()) == (b.dev(), b.ino())).then_some(d)
        });
        PartFile {
            direct_on: AtomicBool::new(direct.is_some()),
            file,
            direct,
        }
    }

    /// `file` alone, every transfer through the page cache.
    pub(super) fn buffered(file: File) -> PartFile {
        PartFile {
            file,
            direct: None,
            direct_on: AtomicBool::new(false),
        }
    }

    /// The buffered handle (for syncs, length and the resume's hashing).
    pub(super) fn file(&self) -> &File {
        &self.file
    }

    /// Whether blocks can go direct: the caller then sizes its blocks for the device
    /// (larger transfers cost the device less per byte) rather than for the CPU's cache.
    pub(super) fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// The direct handle, if `buf`, its length and `at` suit a direct transfer.
    fn direct_for(&self, buf: &[u8], at: u64) -> Option<&File> {
        let aligned = (buf.as_ptr() as usize) % ALIGN == 0
            && buf.len() % ALIGN == 0
            && at % ALIGN as u64 == 0
            && !buf.is_empty();
        if aligned && self.direct_on.load(Ordering::Relaxed) {
            self.direct.as_ref()
        } else {
            None
        }
    }

    /// Writes all of `data` at `at`.
    pub(super) fn write_all_at(&self, data: &[u8], at: u64) -> io::Result<()> {
        if let Some(d) = self.direct_for(data, at) {
            match d.write_all_at(data, at) {
                Err(e) if e.raw_os_error() == Some(EINVAL) => self.refused(),
                r => return r,
            }
        }
        self.file.write_all_at(data, at)
    }

    /// Fills `buf` from `at`.
    pub(super) fn read_exact_at(&self, buf: &mut [u8], at: u64) -> io::Result<()> {
        if let Some(d) = self.direct_for(buf, at) {
            match d.read_exact_at(buf, at) {
                Err(e) if e.raw_os_error() == Some(EINVAL) => self.refused(),
                r => return r,
            }
        }
        self.file.read_exact_at(buf, at)
    }

    /// The filesystem refused a direct transfer (nothing was moved): the page cache from
    /// now on. A direct write already done stays valid: the kernel keeps the cache
    /// coherent with it.
    fn refused(&self) {
        self.direct_on.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filehash::AlignedBuf;
    use std::fs;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("glacier-direct-{name}-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("dir");
        dir
    }

    /// Whole aligned blocks (direct where the filesystem allows), an unaligned tail and a
    /// misaligned buffer (through the cache) land where they are put and read back the
    /// same, in either order of handles.
    #[test]
    fn blocks_direct_or_not_land_and_read_back() {
        let dir = scratch("land");
        let p = dir.join("part");
        let f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&p)
            .expect("create");
        let total = 3 * 65536 + 100;
        f.set_len(total as u64).expect("len");
        let part = PartFile::open(f, &p);
        let want: Vec<u8> = (0..total).map(|i| (i * 31 % 251) as u8).collect();
        let mut block = AlignedBuf::new(65536);
        for (i, piece) in want.chunks(65536).enumerate() {
            block[..piece.len()].copy_from_slice(piece);
            part.write_all_at(&block[..piece.len()], (i * 65536) as u64)
                .expect("write");
        }
        // A misaligned buffer goes through the cache; it rewrites the same bytes.
        let odd = want[..4096].to_vec();
        let mut shifted = vec![0u8; 4097];
        shifted[1..].copy_from_slice(&odd);
        part.write_all_at(&shifted[1..], 0).expect("write");
        assert_eq!(fs::read(&p).expect("read"), want);
        let mut back = AlignedBuf::new(65536);
        for (i, piece) in want.chunks(65536).enumerate() {
            part.read_exact_at(&mut back[..piece.len()], (i * 65536) as u64)
                .expect("read");
            assert_eq!(&back[..piece.len()], piece, "block {i}");
        }
        part.file().sync_all().expect("sync");
        drop(part);
        let _ = fs::remove_dir_all(&dir);
    }

    /// A handle that is not the file at the path gets no direct twin.
    #[test]
    fn a_different_file_at_the_path_gets_no_direct_handle() {
        let dir = scratch("swap");
        let (a, b) = (dir.join("a"), dir.join("b"));
        fs::write(&a, b"a").expect("write");
        fs::write(&b, b"b").expect("write");
        let f = fs::File::open(&a).expect("open");
        assert!(!PartFile::open(f, &b).is_direct());
        let f = fs::File::open(&a).expect("open");
        assert!(!PartFile::buffered(f).is_direct());
        let _ = fs::remove_dir_all(&dir);
    }

    /// A refused direct transfer turns direct I/O off and the block goes through the
    /// cache (simulated by the flag: a real refusal needs a filesystem that refuses).
    #[test]
    fn after_a_refusal_every_block_goes_through_the_cache() {
        let dir = scratch("refuse");
        let p = dir.join("part");
        fs::write(&p, vec![0u8; 8192]).expect("write");
        let f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .expect("open");
        let part = PartFile::open(f, &p);
        part.refused();
        let block = {
            let mut b = AlignedBuf::new(4096);
            b.fill(9);
            b
        };
        assert!(part.direct_for(&block, 0).is_none());
        part.write_all_at(&block, 4096).expect("write");
        let mut back = AlignedBuf::new(4096);
        part.read_exact_at(&mut back, 4096).expect("read");
        assert_eq!(&back[..], &block[..]);
        let _ = fs::remove_dir_all(&dir);
    }
}
