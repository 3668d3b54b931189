//! The packing plan: what goes into the archive, in which order, under which names,
//! scanned and checked before a byte is sent. Reads metadata, never file contents.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs::{self, File, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use tar::{EntryType, Header};

use super::compress::{Compression, Options, block_size};
use crate::error::{Error, Result};

/// A tar block; headers and file data are padded to it.
const TAR_BLOCK: u64 = 512;

/// What kind of thing an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file; its bytes follow the header.
    File,
    /// A directory.
    Dir,
    /// A symbolic link to this target (stored as given, not resolved).
    Symlink(PathBuf),
}

/// One archive member, as the scan saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub(super) name: PathBuf,
    pub(super) source: PathBuf,
    pub(super) kind: EntryKind,
    pub(super) size: u64,
    pub(super) mode: u32,
    pub(super) mtime: u64,
    /// What the scan saw, to detect a change while packing.
    pub(super) stamp: Stamp,
}

/// The identity and version of a file as `stat` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    pub(super) dev: u64,
    pub(super) ino: u64,
    pub(super) size: u64,
    pub(super) mtime: i64,
    pub(super) mtime_nsec: i64,
}

impl Stamp {
    pub(super) fn of(m: &Metadata) -> Stamp {
        Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.len(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        }
    }
}

impl Entry {
    /// The path inside the archive, relative, `/`-separated, without a trailing slash.
    #[cfg(test)] // the packer reads the fields; the tests check them through these
    pub fn name(&self) -> &Path {
        &self.name
    }

    /// The name as written in the tar header: directories end in `/`.
    pub(super) fn header_name(&self) -> PathBuf {
        if self.kind == EntryKind::Dir {
            let mut n = self.name.as_os_str().to_os_string();
            n.push("/");
            PathBuf::from(n)
        } else {
            self.name.clone()
        }
    }

    /// The tar header, without its path and link name (the `tar` crate sets those, with
    /// long-name entries when needed).
    pub(super) fn header(&self) -> Header {
        let mut h = Header::new_gnu();
        h.set_entry_type(match self.kind {
            EntryKind::File => EntryType::Regular,
            EntryKind::Dir => EntryType::Directory,
            EntryKind::Symlink(_) => EntryType::Symlink,
        });
        h.set_size(self.size);
        h.set_mode(self.mode);
        h.set_mtime(self.mtime);
        h.set_uid(0);
        h.set_gid(0);
        h
    }

    /// Bytes this entry takes in the tar stream. Also checks that the name and link
    /// target can be stored, so that packing cannot fail on them later.
    fn tar_size(&self) -> Result<u64> {
        let mut h = self.header();
        let mut total = TAR_BLOCK + round_up(self.size, TAR_BLOCK);
        total += long_name_size(
            &self.source,
            h.set_path(self.header_name()),
            &self.header_name(),
        )?;
        if let EntryKind::Symlink(target) = &self.kind {
            total += long_name_size(&self.source, h.set_link_name(target), target)?;
        }
        Ok(total)
    }
}

fn round_up(n: u64, to: u64) -> u64 {
    n.div_ceil(to) * to
}

/// The extra bytes of a GNU `././@LongLink` entry when `set` (putting `name` in the
/// 100-byte header field) failed, mirroring what `tar::Builder` does: a header block
/// plus the NUL-terminated name padded to a block.
fn long_name_size(source: &Path, set: io::Result<()>, name: &Path) -> Result<u64> {
    match set {
        Ok(()) => Ok(0),
        Err(e) => {
            let len = name.as_os_str().len() as u64;
            if len < 100 {
                // Not a length problem: the tar crate would refuse this name outright.
                return Err(Error::io(source, e));
            }
            Ok(TAR_BLOCK + round_up(len + 1, TAR_BLOCK))
        }
    }
}

/// One input as the user gave it, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Input {
    name: OsString,
    dir: bool,
}

/// What will be packed: the entries in archive order, scanned and checked before
/// anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub(super) entries: Vec<Entry>,
    pub(super) inputs: Vec<Input>,
    pub(super) total_file_bytes: u64,
    pub(super) tar_size: u64,
}

impl Plan {
    /// Walks the inputs (files, directories, symbolic links) and checks them: a missing
    /// or unreadable path, an unsupported file type (socket, FIFO, device), a name the
    /// archive cannot hold, or two inputs with the same archive name is an error naming
    /// the path. Regular files are opened once here so that permission problems show
    /// before the upload starts.
    pub fn scan(inputs: &[PathBuf]) -> Result<Plan> {
        if inputs.is_empty() {
            return Err(Error::Usage("nothing to pack: no input given".into()));
        }
        let mut entries = Vec::new();
        let mut seen: BTreeMap<OsString, &Path> = BTreeMap::new();
        let mut summary_inputs = Vec::new();
        for input in inputs {
            let name = archive_name(input)?;
            if let Some(other) = seen.insert(name.clone(), input) {
                return Err(Error::Input(format!(
                    "{} and {} would both be stored as '{}' in the archive; rename one \
                     or pack their parent directory",
                    other.display(),
                    input.display(),
                    name.to_string_lossy()
                )));
            }
            let meta = fs::symlink_metadata(input).map_err(|e| Error::io(input, e))?;
            let top = entry(input.clone(), PathBuf::from(&name), &meta)?;
            let dir = top.kind == EntryKind::Dir;
            entries.push(top);
            if dir {
                walk(input, Path::new(&name), &mut entries)?;
            }
            summary_inputs.push(Input { name, dir });
        }
        entries.sort_by(|a, b| {
            a.name
                .as_os_str()
                .as_bytes()
                .cmp(b.name.as_os_str().as_bytes())
        });
        let mut tar_size = 2 * TAR_BLOCK;
        let mut total_file_bytes = 0;
        for e in &entries {
            tar_size += e.tar_size()?;
            total_file_bytes += e.size;
        }
        Ok(Plan {
            entries,
            inputs: summary_inputs,
            total_file_bytes,
            tar_size,
        })
    }

    /// The entries, in archive order.
    #[cfg(test)] // the packer reads the fields; the tests check them through these
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The sum of the regular files' sizes: the input bytes that progress counts.
    #[cfg(test)] // the packer reads the fields; the tests check them through these
    pub fn total_file_bytes(&self) -> u64 {
        self.total_file_bytes
    }

    /// The exact size of the uncompressed tar stream.
    #[cfg(test)] // the packer reads the fields; the tests check them through these
    pub fn tar_size(&self) -> u64 {
        self.tar_size
    }

    /// An upper bound on the size of the `.tar.xz` stream with `opts`, whatever the data:
    /// for choosing a part size before the size is known. xz never expands by more than
    /// a few bytes per 64 KiB: liblzma stores input that does not compress as LZMA2
    /// uncompressed chunks (at most 64 KiB, 3-byte header each), plus per-block headers,
    /// checks and index records, plus the stream header and footer.
    /// Without compression the bound is exact: the tar size.
    pub fn size_bound(&self, opts: &Options) -> u64 {
        let t = self.tar_size;
        if opts.compression == Compression::None {
            return t;
        }
        let blocks = t.div_ceil(block_size(opts.xz_level)).max(1);
        let chunks = t.div_ceil(64 << 10) + blocks;
        // Block header (at most 1024), padding (3), CRC64 (8), index record (at most 18).
        t + chunks * 3 + blocks * 1056 + 1024
    }

    /// Identifies this plan packed with `opts`: the same unchanged inputs packed the same
    /// way give the same bytes, so a resumed packed upload may trust a matching
    /// fingerprint (hex SHA-256 of the options that shape the bytes: compression, level
    /// and encoder, and of every entry's name, source, kind, size, mode and
    /// modification time).
    pub fn fingerprint(&self, opts: &Options) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        // The threaded xz line is the one fingerprints had before `--compression none`
        // and the single-threaded encoder existed, so that an upload started then can
        // still be resumed. The encoder is in the line because it changes the bytes
        // (one xz block instead of blocks of [`block_size`]); the thread count is not,
        // because it does not.
        h.update(match opts.compression {
            Compression::Xz if opts.single_threaded => {
                format!("glacier-pack v1 level {} single-threaded\n", opts.xz_level)
            }
            Compression::Xz => format!("glacier-pack v1 level {}\n", opts.xz_level),
            Compression::None => "glacier-pack v1 tar\n".to_string(),
        });
        for e in &self.entries {
            h.update(format!(
                "{:?} {:?} {:?} {} {:o} {}\n",
                e.name, e.source, e.kind, e.size, e.mode, e.mtime
            ));
        }
        hex::encode(h.finalize())
    }

    /// The default archive description: a file name for the packed archive, e.g.
    /// `photos.tar.xz`, or `photos+2-more.tar.xz` for three inputs (see
    /// [`packed_name`]), so that export, inventory tables and other tools show it as the
    /// file it is. The `tar.xz` names the compression: [`Compression::extension`] of
    /// `opts`.
    pub fn default_description(&self, opts: &Options) -> String {
        let first = self
            .inputs
            .first()
            .map(|i| i.name.to_string_lossy().into_owned())
            .unwrap_or_default();
        packed_name(
            &first,
            self.inputs.len().saturating_sub(1),
            opts.compression.extension(),
        )
    }
}

/// Longest stem [`packed_name`] keeps, in bytes: the whole name stays well within a
/// file name's 255 bytes and Glacier's 1,024-character description.
const PACKED_STEM_MAX: usize = 200;

/// The file name of a packed archive whose first input is named `first`, followed by
/// `more` other inputs, compressed as `extension` (`tar.xz`, `tar`):
/// `photos.tar.xz`, `photos+2-more.tar.xz`. Printable ASCII only (what Glacier allows
/// in `x-amz-archive-description`): other characters, and the separators `/` and `\`,
/// become `_`; a long name is shortened. Also used by export to name archives described
/// in this tool's earlier format.
pub fn packed_name(first: &str, more: usize, extension: &str) -> String {
    let mut stem: String = first
        .trim_end_matches('/')
        .chars()
        .map(|c| {
            if (' '..='~').contains(&c) && c != '/' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .take(PACKED_STEM_MAX)
        .collect();
    if stem.trim().is_empty() || stem.chars().all(|c| c == '.') {
        stem = "glacier-upload".into();
    }
    if more > 0 {
        let _ = write!(stem, "+{more}-more");
    }
    format!("{stem}.{extension}")
}

/// The name an input gets in the archive: its last component, or for `.`-like paths the
/// name of the directory it resolves to.
fn archive_name(input: &Path) -> Result<OsString> {
    if let Some(name) = input.file_name() {
        return Ok(name.to_os_string());
    }
    let real = fs::canonicalize(input).map_err(|e| Error::io(input, e))?;
    match real.file_name() {
        Some(name) => Ok(name.to_os_string()),
        None => Err(Error::Input(format!(
            "{}: cannot be packed under a name of its own; give the directories below it",
            input.display()
        ))),
    }
}

/// The entry for `source`, stored as `name`, from its (not followed) metadata.
fn entry(source: PathBuf, name: PathBuf, meta: &Metadata) -> Result<Entry> {
    let ft = meta.file_type();
    let (kind, size, mode) = if ft.is_file() {
        // Open once now so an unreadable file stops us before the upload starts.
        File::open(&source).map_err(|e| Error::io(&source, e))?;
        (EntryKind::File, meta.len(), meta.mode() & 0o7777)
    } else if ft.is_dir() {
        (EntryKind::Dir, 0, meta.mode() & 0o7777)
    } else if ft.is_symlink() {
        let target = fs::read_link(&source).map_err(|e| Error::io(&source, e))?;
        (EntryKind::Symlink(target), 0, 0o777)
    } else {
        let what = if ft.is_socket() {
            "a socket"
        } else if ft.is_fifo() {
            "a FIFO"
        } else if ft.is_block_device() {
            "a block device"
        } else if ft.is_char_device() {
            "a character device"
        } else {
            "of an unknown type"
        };
        return Err(Error::Input(format!(
            "{}: is {what}; only regular files, directories and symbolic links can be packed",
            source.display()
        )));
    };
    Ok(Entry {
        name,
        kind,
        size,
        mode,
        mtime: u64::try_from(meta.mtime()).unwrap_or(0),
        stamp: Stamp::of(meta),
        source,
    })
}

/// Adds everything below directory `root` (stored as `root_name`) to `out`, depth
/// first with an explicit stack so deep trees cannot overflow the thread's stack.
fn walk(root: &Path, root_name: &Path, out: &mut Vec<Entry>) -> Result<()> {
    let mut stack = vec![(root.to_path_buf(), root_name.to_path_buf())];
    while let Some((dir, dir_name)) = stack.pop() {
        let list = fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for item in list {
            let item = item.map_err(|e| Error::io(&dir, e))?;
            let source = item.path();
            // `DirEntry::metadata` does not follow symbolic links.
            let meta = item.metadata().map_err(|e| Error::io(&source, e))?;
            let e = entry(source, dir_name.join(item.file_name()), &meta)?;
            if e.kind == EntryKind::Dir {
                stack.push((e.source.clone(), e.name.clone()));
            }
            out.push(e);
        }
    }
    Ok(())
}
