//! The packing thread and the reader it feeds: tar entries written into the xz
//! encoder on a background thread, compressed bytes handed over a bounded channel.

use std::fs;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use super::compress::{CHANNEL_BUFFERS, CHUNK, Compression, Msg, Options, XzWriter};
use super::plan::{Entry, EntryKind, Plan};
use super::read::{FileReader, changed};
use super::{error_from_io, to_io};
use crate::error::{Error, Result};

/// Writes the whole archive into `xz`, then ends the xz stream; returns the channel.
fn pack(entries: &[Entry], xz: XzWriter, progress: Option<&AtomicU64>) -> Result<Sender<Msg>> {
    let mut builder = tar::Builder::new(xz);
    for e in entries {
        if let Err(err) = append(&mut builder, e, progress) {
            builder.get_mut().aborted = true;
            return Err(err);
        }
    }
    let xz = builder.into_inner().map_err(error_from_io)?;
    xz.finish().map_err(error_from_io)
}

fn append(
    builder: &mut tar::Builder<XzWriter>,
    e: &Entry,
    progress: Option<&AtomicU64>,
) -> Result<()> {
    let mut h = e.header();
    let name = e.header_name();
    let res = match &e.kind {
        EntryKind::Dir => builder.append_data(&mut h, &name, io::empty()),
        EntryKind::Symlink(target) => {
            let now = fs::read_link(&e.source).map_err(|err| Error::io(&e.source, err))?;
            if &now != target {
                return Err(changed(
                    &e.source,
                    "link target differs from the scan".into(),
                ));
            }
            builder.append_link(&mut h, &name, target)
        }
        EntryKind::File => {
            let reader = FileReader::open(e, progress)?;
            builder.append_data(&mut h, &name, reader)
        }
    };
    res.map_err(|err| {
        if err.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            error_from_io(err)
        } else {
            Error::io(&e.source, err)
        }
    })
}

/// The `.tar.xz` bytes of a [`Plan`], produced by a background thread as they are read.
///
/// A read error carries the crate [`Error`] naming the file at fault (get it back with
/// [`error_from_io`]); after an error the stream stays failed. Dropping the reader, at
/// any point, stops the packing thread and waits for it (at most the time to compress
/// one xz block).
pub struct PackReader {
    rx: Option<Receiver<Msg>>,
    buf: Vec<u8>,
    pos: usize,
    state: State,
    thread: Option<JoinHandle<()>>,
}

enum State {
    Running,
    Done,
    Failed(String),
}

/// Starts packing `plan` with `opts` on a background thread and returns the reader of
/// the `.tar.xz` bytes. `progress`, if given, is increased by the file bytes read.
/// Bad options or an encoder that cannot start (too little memory for the threads)
/// fail here, before any byte is produced.
pub fn reader(plan: Plan, opts: &Options, progress: Option<Arc<AtomicU64>>) -> Result<PackReader> {
    opts.validate()?;
    let stream = match opts.compression {
        Compression::Xz => Some(
            opts.builder()
                .encoder()
                .map_err(|e| Error::io("(xz encoder)", io::Error::other(e)))?,
        ),
        Compression::None => None,
    };
    let (tx, rx) = crossbeam_channel::bounded(CHANNEL_BUFFERS);
    let xz = XzWriter {
        stream,
        out: Vec::with_capacity(CHUNK),
        tx: tx.clone(),
        aborted: false,
    };
    let thread = std::thread::Builder::new()
        .name("pack".into())
        .spawn(move || match pack(&plan.entries, xz, progress.as_deref()) {
            Ok(tx) => {
                let _ = tx.send(Msg::Done);
            }
            Err(e) => {
                // The reader may be gone already; then nobody needs the error.
                let _ = tx.send(Msg::Failed(e));
            }
        })
        .map_err(|e| Error::io("(packing thread)", e))?;
    Ok(PackReader {
        rx: Some(rx),
        buf: Vec::new(),
        pos: 0,
        state: State::Running,
        thread: Some(thread),
    })
}

impl PackReader {
    fn join(&mut self) {
        self.rx = None;
        if let Some(t) = self.thread.take() {
            // A panic in the packing thread was already reported as a failed stream.
            let _ = t.join();
        }
    }
}

impl Read for PackReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.pos < self.buf.len() {
                let n = out.len().min(self.buf.len() - self.pos);
                out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            match &self.state {
                State::Done => return Ok(0),
                State::Failed(msg) => return Err(io::Error::other(msg.clone())),
                State::Running => {}
            }
            let msg = match &self.rx {
                Some(rx) => rx.recv().ok(),
                None => None,
            };
            match msg {
                Some(Msg::Data(v)) => {
                    self.buf = v;
                    self.pos = 0;
                }
                Some(Msg::Done) => {
                    self.state = State::Done;
                    self.join();
                }
                Some(Msg::Failed(e)) => {
                    self.state = State::Failed(crate::error::chain(&e));
                    self.join();
                    return Err(to_io(e));
                }
                None => {
                    // Without a `Done` message the stream is incomplete: never let a
                    // panicked packer look like a short archive.
                    let e = Error::io(
                        "(packing thread)",
                        io::Error::other("stopped before the archive was complete"),
                    );
                    self.state = State::Failed(crate::error::chain(&e));
                    self.join();
                    return Err(to_io(e));
                }
            }
        }
    }
}

impl Drop for PackReader {
    fn drop(&mut self) {
        // Closing the channel makes the packer's next send fail, which ends it.
        self.join();
    }
}
