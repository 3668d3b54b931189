//! The compression side of packing: the options (xz or none, level, threads), the
//! deterministic block size, the choice of encoder threads within a memory budget, and
//! the `Write` end that compresses the tar stream (or passes it through) and hands full
//! buffers to the reader's channel. Knows nothing of files.

use std::io::{self, Write};

use crossbeam_channel::Sender;
use xz2::stream::{Action, Check, MtStreamBuilder, Status, Stream};

use super::to_io;
use crate::error::{Error, Result, Setting};

/// The xz level used when the user gives none: level 0, the fastest preset.
///
/// Multi-GB backups are mostly photos, video and archives that no level compresses, and
/// there level 0 is more than twice as fast as level 1; on text it still keeps the
/// output at under a fifth of the input. Users who pack mostly text can ask for more.
///
/// Measured on this project's 2-core machine while other jobs shared it (load 3 to 4,
/// so small inputs and CPU seconds rather than wall time; each figure repeated 2 to 3
/// times, the spread given): a 64 MiB tar (67,123,200 bytes) of a third real Rust/C
/// source from the cargo registry, a third `/dev/urandom`, a third repetitive log lines,
/// compressed with `xz -N -T2 --block-size=B` (xz 5.4.1; the same presets and the block
/// sizes of [`block_size`] as this module, whose bundled liblzma is 5.2), timed with
/// `/usr/bin/time`. MB/s is input per CPU-second, i.e. per core.
///
/// | level | output | CPU s | MB/s per core | wall s, 2 threads | encoder memory, 2 threads |
/// |---|---|---|---|---|---|
/// | 0 | 41.1 % | 5.9 - 8.6 | 8 - 11 | 3.2 - 8.8 | 12 MiB |
/// | 1 | 39.7 % | 13.6 - 15.2 | 4.4 - 4.9 | 7.0 - 8.8 | 36 MiB |
/// | 2 | 39.1 % | 19.4 - 20.1 | 3.4 | 10.0 - 13.7 | 69 MiB |
/// | 3 | 38.9 % | 33.9 | 2.0 | 30.3 | 135 MiB |
/// | 6 | 38.1 % | 52.5 | 1.3 | 49.1 | 331 MiB |
///
/// By part (about 21 MiB each), output and CPU seconds, levels 0 / 1 / 2:
/// source text 17.8 % 1.1-1.3 s / 14.3 % 1.4-1.8 s / 13.5 % 3.7 s;
/// log lines 7.1 % 0.7 s / 6.1 % 1.5 s / 5.2 % 4.1 s;
/// random bytes 100.0 % at every level, 5.4-6.8 s (3.2-4.1 MB/s per core) / 12.8-13.1 s
/// (1.7 MB/s) / 15.6 s. Incompressible input is the slow case for every level.
pub const DEFAULT_XZ_LEVEL: u32 = 0;

/// Bytes per buffer sent from the packing thread to the reader.
pub(super) const CHUNK: usize = 1 << 20;

/// Buffers in flight between the packing thread and the reader: with [`CHUNK`], at most
/// a few MiB whatever the archive size.
pub(super) const CHANNEL_BUFFERS: usize = 4;

/// The LZMA2 dictionary size of each xz preset level 0..=9 (xz(1), "Presets").
const DICT_SIZE: [u64; 10] = [
    256 << 10,
    1 << 20,
    2 << 20,
    4 << 20,
    4 << 20,
    8 << 20,
    8 << 20,
    16 << 20,
    32 << 20,
    64 << 20,
];

/// Memory liblzma's single-threaded encoder needs at each preset level 0..=9, in MiB:
/// the "CompMem" column of xz(1), "Presets" (the same presets as `lzma_easy_encoder`).
const SINGLE_THREAD_MIB: [u64; 10] = [3, 9, 17, 32, 48, 94, 94, 186, 370, 674];

/// The xz block size for `level`: three times the dictionary, at least 1 MiB.
///
/// This is what liblzma picks by default today, written down here so the archive bytes
/// do not depend on a library default. It is part of the deterministic format: changing
/// it changes every archive, and a packed upload started before could not be resumed.
/// Each encoder thread holds about three blocks in memory.
pub fn block_size(level: u32) -> u64 {
    let dict = DICT_SIZE[level.min(9) as usize];
    (3 * dict).max(1 << 20)
}

/// What the tar stream goes through before it is uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// liblzma's multi-threaded xz encoder: a `.tar.xz`.
    Xz,
    /// None: a plain `.tar`, for inputs that are already compressed (photos, video,
    /// archives), where xz only costs CPU time. As deterministic as the `.tar.xz`.
    None,
}

impl Compression {
    /// The file name extension of the packed archive: `tar.xz` or `tar`.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::Xz => "tar.xz",
            Compression::None => "tar",
        }
    }
}

/// How to compress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// xz or none; with none, `xz_level` and `threads` are unused.
    pub compression: Compression,
    /// xz preset level, 0..=9 (no "extreme" variants).
    pub xz_level: u32,
    /// xz encoder threads, at least 1. The output does not depend on it.
    pub threads: u32,
    /// liblzma's single-threaded encoder instead of the threaded one (`threads` is then
    /// 1): set by [`Options::fit_memory`] only when one encoder thread does not fit the
    /// budget and this does. Its output is one xz block, so its bytes differ from the
    /// threaded encoder's at the same level (both are deterministic).
    pub single_threaded: bool,
}

impl Default for Options {
    /// [`DEFAULT_XZ_LEVEL`] on as many threads as the machine has cores.
    fn default() -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
            .unwrap_or(1);
        Options {
            compression: Compression::Xz,
            xz_level: DEFAULT_XZ_LEVEL,
            threads,
            single_threaded: false,
        }
    }
}

impl Options {
    /// Checks the level and thread count.
    pub fn validate(&self) -> Result<()> {
        if self.xz_level > 9 {
            return Err(Error::Usage(format!(
                "{} {}: must be 0 to 9",
                Setting::XzLevel,
                self.xz_level
            )));
        }
        if self.threads == 0 {
            return Err(Error::Usage("xz threads: must be at least 1".into()));
        }
        Ok(())
    }

    pub(super) fn builder(&self) -> Encoder {
        if self.single_threaded {
            return Encoder::Single(self.xz_level);
        }
        let mut b = MtStreamBuilder::new();
        b.preset(self.xz_level)
            .threads(self.threads)
            .block_size(block_size(self.xz_level))
            // No timeout: `process` blocks until it made progress, which the packing
            // thread is there to do; a timeout would only add wake-ups.
            .timeout_ms(0)
            .check(Check::Crc64);
        Encoder::Threaded(b)
    }

    /// liblzma's estimate of the encoder's memory use in bytes
    /// (`lzma_stream_encoder_mt_memusage`, or xz(1)'s figure for the single-threaded
    /// encoder), 0 without compression. The pipe to the reader adds about
    /// [`PIPE_MEMORY`] on top.
    pub fn memory_usage(&self) -> u64 {
        match self.compression {
            Compression::Xz => self.builder().memusage(),
            Compression::None => 0,
        }
    }

    /// These options with the most encoder threads, at most `self.threads`, whose
    /// memory ([`Options::memory_usage`] plus [`PIPE_MEMORY`]) fits in `budget` bytes;
    /// when not even one thread of the threaded encoder fits, liblzma's single-threaded
    /// encoder if that does (it holds no input and output blocks: level 6 needs about
    /// 94 MiB instead of 172).
    ///
    /// Only the thread count, or the encoder, gives: the block size is part of the
    /// deterministic format ([`block_size`]), and a level whose encoder does not fit at
    /// all is an error naming `--max-memory` and `--xz-level`, never a silently lower
    /// level.
    pub fn fit_memory(self, budget: u64) -> Result<Options> {
        self.validate()?;
        let need = |o: &Options| o.memory_usage().saturating_add(PIPE_MEMORY);
        let one = Options {
            threads: 1,
            single_threaded: false,
            ..self
        };
        if need(&one) > budget {
            let single = Options {
                single_threaded: true,
                ..one
            };
            if self.compression == Compression::Xz && need(&single) <= budget {
                return Ok(single);
            }
            return Err(Error::Usage(format!(
                "packing at {xz} {} needs {} MiB for one xz thread, but {mm} leaves {} MiB for it (use a lower {xz}, {} none, or a larger {mm})",
                self.xz_level,
                need(&single).min(need(&one)).div_ceil(1 << 20),
                budget >> 20,
                Setting::Compression,
                xz = Setting::XzLevel,
                mm = Setting::MaxMemory
            )));
        }
        // Memory grows with the thread count: find the largest count that fits.
        let (mut lo, mut hi) = (1, self.threads);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if need(&Options {
                threads: mid,
                ..one
            }) <= budget
            {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Ok(Options { threads: lo, ..one })
    }
}

#[cfg(test)]
impl Options {
    /// The threaded xz encoder at `level` on `threads` threads (tests build many).
    pub(super) fn xz(level: u32, threads: u32) -> Options {
        Options {
            compression: Compression::Xz,
            xz_level: level,
            threads,
            single_threaded: false,
        }
    }
}

/// The xz encoder [`Options`] chose: liblzma's threaded one, or its single-threaded one
/// at a preset level.
pub(super) enum Encoder {
    /// `lzma_stream_encoder_mt` with its settings.
    Threaded(MtStreamBuilder),
    /// `lzma_easy_encoder` at this preset level.
    Single(u32),
}

impl Encoder {
    /// The encoder's memory use in bytes, as liblzma (threaded) or xz(1) (single) gives it.
    pub(super) fn memusage(&self) -> u64 {
        match self {
            Encoder::Threaded(b) => b.memusage(),
            Encoder::Single(level) => SINGLE_THREAD_MIB[(*level).min(9) as usize] << 20,
        }
    }

    /// Starts the encoder.
    pub(super) fn encoder(&self) -> std::result::Result<Stream, xz2::stream::Error> {
        match self {
            Encoder::Threaded(b) => b.encoder(),
            Encoder::Single(level) => Stream::new_easy_encoder(*level, Check::Crc64),
        }
    }
}

/// Memory held by the pipe between the packing thread and the reader, at most.
pub const PIPE_MEMORY: u64 = ((CHANNEL_BUFFERS + 2) * CHUNK) as u64;

/// A message from the packing thread.
pub(super) enum Msg {
    /// The next bytes of the `.tar.xz` stream.
    Data(Vec<u8>),
    /// The stream is complete.
    Done,
    /// Packing failed; nothing more follows.
    Failed(Error),
}

/// The `Write` end the tar builder writes into: compresses with liblzma (or, without
/// an encoder, copies) and sends full buffers down the channel.
pub(super) struct XzWriter {
    /// The xz encoder; `None` for [`Compression::None`].
    pub(super) stream: Option<Stream>,
    pub(super) out: Vec<u8>,
    pub(super) tx: Sender<Msg>,
    /// Set after a failure so that the tar builder's drop (which writes the archive's
    /// end) does not feed the encoder again and wait for it.
    pub(super) aborted: bool,
}

impl XzWriter {
    fn send_out(&mut self) -> io::Result<()> {
        let full = std::mem::replace(&mut self.out, Vec::with_capacity(CHUNK));
        self.tx.send(Msg::Data(full)).map_err(|_| {
            // The reader is gone: stop quietly, nobody is listening.
            self.aborted = true;
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the packed stream's reader was dropped",
            )
        })
    }

    fn xz_error(e: xz2::stream::Error) -> io::Error {
        to_io(Error::io("(xz encoder)", io::Error::other(e)))
    }

    /// Ends the xz stream and sends what is left.
    pub(super) fn finish(mut self) -> io::Result<Sender<Msg>> {
        while self.stream.is_some() {
            if self.out.len() == self.out.capacity() {
                self.send_out()?;
            }
            let Some(stream) = &mut self.stream else {
                break;
            };
            let status = stream
                .process_vec(&[], &mut self.out, Action::Finish)
                .map_err(Self::xz_error)?;
            if status == Status::StreamEnd {
                break;
            }
        }
        if !self.out.is_empty() {
            self.send_out()?;
        }
        Ok(self.tx)
    }
}

impl Write for XzWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.aborted {
            return Err(io::Error::other("packing was aborted"));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.out.len() == self.out.capacity() {
                self.send_out()?;
            }
            let Some(stream) = &mut self.stream else {
                let n = buf.len().min(self.out.capacity() - self.out.len());
                self.out.extend_from_slice(&buf[..n]);
                return Ok(n);
            };
            let before = stream.total_in();
            stream
                .process_vec(buf, &mut self.out, Action::Run)
                .map_err(Self::xz_error)?;
            let used = (stream.total_in() - before) as usize;
            if used > 0 {
                return Ok(used);
            }
        }
    }

    /// Does nothing: an xz flush would end a block early and make the output depend on
    /// when flushes happen.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_single_threaded_encoder_is_chosen_only_when_one_thread_does_not_fit() {
        let mib = 1 << 20;
        let fitted = Options::xz(6, 4)
            .fit_memory(128 * mib)
            .expect("fits single-threaded");
        assert!(fitted.single_threaded);
        assert_eq!(fitted.threads, 1);
        assert_eq!(fitted.memory_usage(), 94 * mib);
        // Room for the threaded encoder: it is kept, whatever its thread count.
        let roomy = Options::xz(6, 4).fit_memory(4096 * mib).expect("fits");
        assert!(!roomy.single_threaded);
        assert_eq!(roomy.threads, 4);
        assert!(
            Options::xz(6, 1).memory_usage() > 128 * mib,
            "the premise of the fallback"
        );
        // Neither fits: the message gives the smaller need.
        match Options::xz(6, 4).fit_memory(64 * mib) {
            Err(Error::Usage(m)) => assert!(m.contains("needs 100 MiB"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_single_threaded_encoder_round_trips_and_is_deterministic() {
        let data: Vec<u8> = (0..3_000_000u32)
            .map(|i| (i % 251) as u8 ^ (i >> 13) as u8)
            .collect();
        let encode = || {
            let mut s = Encoder::Single(6).encoder().expect("encoder");
            let mut out = Vec::with_capacity(data.len() + 4096);
            let mut fed = 0;
            while fed < data.len() {
                let before = s.total_in();
                s.process_vec(&data[fed..], &mut out, Action::Run)
                    .expect("run");
                fed += (s.total_in() - before) as usize;
                if out.len() == out.capacity() {
                    out.reserve(1 << 20);
                }
            }
            while s
                .process_vec(&[], &mut out, Action::Finish)
                .expect("finish")
                != Status::StreamEnd
            {
                out.reserve(1 << 20);
            }
            out
        };
        let a = encode();
        assert_eq!(a, encode(), "same bytes every time");
        let mut back = Vec::new();
        xz2::read::XzDecoder::new(&a[..])
            .read_to_end(&mut back)
            .expect("valid xz");
        assert!(back == data);
    }
}
