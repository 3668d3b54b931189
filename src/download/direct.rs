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
//! Only on local disk filesystems ([`LOCAL_DISK`], read from `/proc/self/mountinfo`): on
//! a network filesystem every direct transfer is a round trip to the server, and the
//! read-back would fetch every byte over the network again. A block goes direct only
//! when its buffer, length and offset are all multiples of [`ALIGN`] (every whole block
//! of a chunk is; an archive's unaligned tail is written through the cache). A
//! filesystem that cannot open the file for direct I/O, or refuses a direct transfer
//! (`EINVAL`), gets buffered I/O for the rest of the download. The two handles are one
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

/// Filesystems on local block devices whose direct I/O goes to the device. Not tmpfs
/// (it serves `O_DIRECT` from its page cache: larger blocks would only cost cache
/// locality), not network or FUSE filesystems (a round trip per block), not overlays
/// (what lies below decides).
const LOCAL_DISK: &[&str] = &["ext4", "ext3", "ext2", "xfs", "btrfs", "f2fs", "bcachefs"];

/// The type of the filesystem holding `path` (absolute, symbolic links resolved), from
/// the text of `/proc/self/mountinfo`: the last-mounted entry whose mount point is the
/// longest whole-component prefix of `path`.
fn fs_type<'a>(mountinfo: &'a str, path: &Path) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for line in mountinfo.lines() {
        // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let (Some(point), Some(kind)) = (left.split(' ').nth(4), right.split(' ').next()) else {
            continue;
        };
        let point = unescape(point);
        if path.starts_with(&point) {
            let depth = Path::new(&point).components().count();
            if best.is_none_or(|(d, _)| depth >= d) {
                best = Some((depth, kind));
            }
        }
    }
    best.map(|(_, kind)| kind)
}

/// A mountinfo field with its octal escapes (`\040` for a space) undone.
fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], octal) {
            (b'\\', Some(d)) => {
                out.push(d.iter().fold(0u8, |v, c| v.wrapping_mul(8) + (c - b'0')));
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether the file at `path` is on a local disk filesystem ([`LOCAL_DISK`]).
fn on_local_disk(path: &Path) -> bool {
    let (Ok(real), Ok(info)) = (
        std::fs::canonicalize(path),
        std::fs::read_to_string("/proc/self/mountinfo"),
    ) else {
        return false;
    };
    fs_type(&info, &real).is_some_and(|k| LOCAL_DISK.contains(&k))
}

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
        let direct = O_DIRECT.filter(|_| on_local_disk(path)).and_then(|flag| {
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

    #[test]
    fn the_filesystem_is_that_of_the_deepest_mount_last_mounted() {
        let info = "\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
23 22 0:5 / /dev rw,nosuid - devtmpfs devtmpfs rw
24 23 0:21 / /dev/shm rw,nosuid,nodev shared:2 - tmpfs tmpfs rw
25 22 0:40 / /mnt/nas rw master:3 - nfs4 server:/export rw
26 22 0:41 / /mnt/my\\040disk rw - xfs /dev/vdb rw
27 25 0:42 / /mnt/nas/local rw - btrfs /dev/vdc rw
28 22 0:43 / /mnt/nas rw - ext4 /dev/vdd rw
";
        let at = |p: &str| fs_type(info, Path::new(p));
        assert_eq!(at("/home/me/x.tar"), Some("ext4"));
        assert_eq!(at("/dev/shm/x"), Some("tmpfs"));
        assert_eq!(
            at("/dev/shmem/x"),
            Some("devtmpfs"),
            "whole components only"
        );
        assert_eq!(at("/mnt/my disk/x"), Some("xfs"), "escaped space");
        assert_eq!(at("/mnt/nas/local/x"), Some("btrfs"));
        assert_eq!(
            at("/mnt/nas/x"),
            Some("ext4"),
            "the later mount on the same point"
        );
        assert_eq!(fs_type("garbage\n", Path::new("/x")), None);
        let torn = format!("garbage\n{info}13 1");
        assert_eq!(
            fs_type(&torn, Path::new("/dev/shm/x")),
            Some("tmpfs"),
            "bad lines skipped"
        );
        assert_eq!(unescape("a\\011b\\134c\\9"), "a\tb\\c\\9");
    }

    /// Where the scratch directory is on a local disk, the part file gets its direct
    /// handle (a refusal there would silently lose the direct path); elsewhere it must
    /// not.
    #[test]
    fn a_file_on_a_local_disk_gets_a_direct_handle_and_others_do_not() {
        let dir = scratch("local");
        let p = dir.join("part");
        fs::write(&p, b"x").expect("write");
        let f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .expect("open");
        let local = on_local_disk(&p);
        assert_eq!(
            PartFile::open(f, &p).is_direct(),
            local && O_DIRECT.is_some(),
            "{} on a local disk: {local}",
            p.display()
        );
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
