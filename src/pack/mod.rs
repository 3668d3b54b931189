//! Packing several files or directories into one `.tar.xz` stream (or a plain `.tar` with
//! [`Compression::None`]), produced as it is read.
//!
//! `glacier upload VAULT FILE...` with several inputs, or with a directory, uploads a
//! `.tar.xz` made on the fly: [`Plan::scan`] walks the inputs and checks everything it
//! can before a byte is sent (missing or unreadable paths, unsupported file types,
//! archive-name clashes), then [`reader`] packs on a background thread and hands the
//! compressed bytes to whoever reads the returned [`PackReader`]. Nothing is written to
//! disk and memory stays bounded: the xz encoder's own ([`Options::memory_usage`], its
//! threads fitted to a budget by [`Options::fit_memory`], beside the upload's parts by
//! [`fit_beside_parts`]) plus a few MiB of buffers in a
//! bounded channel.
//!
//! # The archive is deterministic
//!
//! Packing the same unchanged inputs twice gives the same bytes, whatever the directory
//! listing order, the number of xz threads or the user and group names of the machine;
//! that is what lets an interrupted packed upload be resumed (its parts are verified
//! against a fresh packing). The fixed policy:
//!
//! - Each input is stored under its own file name (`photos/...`, `notes.txt`); a
//!   directory's contents below it. `..` and absolute components never appear. An input
//!   with no name of its own (`.`, `dir/..`) is named after the directory it resolves to;
//!   `/` cannot be packed. Two inputs with the same name are refused.
//! - Entries are in byte order of their archive path (a directory's name sorts before its
//!   children), not in listing order.
//! - Regular files, directories (empty ones too) and symbolic links. Symbolic links are
//!   stored as links and never followed, on the command line as inside directories
//!   (`link/` with a trailing slash is resolved by the system, as a shell user expects).
//!   Hard links are stored as separate files. Sockets, FIFOs and devices are refused.
//! - GNU tar headers as the `tar` crate writes them: long names and long link targets as
//!   `././@LongLink` entries; directory names end in `/`; no padding after the two
//!   zero blocks that end the archive.
//! - Kept: the permission bits (`mode & 0o7777`; links get `0o777`) and the modification
//!   time in whole seconds (times before 1970 become 0). Not kept: owner and group (always
//!   uid 0 and gid 0, no user or group names), access and change times, extended
//!   attributes, ACLs.
//! - xz: liblzma's multi-threaded encoder with a block size fixed by the level
//!   ([`block_size`]), never by the thread count, so the blocks, and therefore the bytes,
//!   are the same with 1 or 16 threads; CRC64 checks. When not even one thread of it
//!   fits the memory budget, liblzma's single-threaded encoder, whose one block gives
//!   other bytes: the encoder is part of [`Plan::fingerprint`], so a resume never mixes
//!   the two streams.
//!
//! # Changes during packing are errors
//!
//! A regular file is opened, checked against what the scan saw (same inode, size and
//! modification time), read for exactly the scanned size, checked for extra bytes, and
//! checked again after reading. Any difference fails the stream with an error naming the
//! file; a wrong archive is never produced silently. A write that leaves size and
//! modification time as they were within the file system's time granularity cannot be
//! seen this way; the tree hash of the uploaded archive is then still right for what was
//! read. Files added to a directory after the scan are not packed.
//!
//! This module reads files and runs threads; it never prints, never touches the network
//! and knows nothing of Glacier.
mod budget;
mod compress;
mod plan;
mod read;
mod stream;
#[cfg(test)]
mod tests;

use std::io;

use crate::error::Error;

pub use budget::fit_beside_parts;
pub use compress::{Compression, DEFAULT_XZ_LEVEL, Options};
pub use plan::{Plan, packed_name};
pub use stream::reader;

/// Turns an I/O error from the packing stream back into the crate error it carries
/// (every error [`PackReader`] returns does, naming the file at fault); any other
/// I/O error is attributed to the packed stream.
pub fn error_from_io(e: io::Error) -> Error {
    Error::from_io(e, "(packed stream)")
}

/// Wraps a crate error into an I/O error (for `Read`/`Write`), keeping it recoverable
/// with [`error_from_io`].
fn to_io(e: Error) -> io::Error {
    let kind = match &e {
        Error::Io { source, .. } => source.kind(),
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}
