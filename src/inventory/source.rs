//! The byte source under both inventory readers: a fixed buffer over any `Read` that
//! tracks the byte offset for error messages and lets the parsers peek one byte. It
//! never grows: a token longer than the buffer is consumed across refills.

use std::io::{self, Read};

use super::{BUF_BYTES, Error, Format, Malformed};

/// A failure inside the parser, before it is given the crate's shape.
pub(super) enum Fail {
    Io(io::Error),
    Bad(u64, String),
}

/// What the parsers return.
pub(super) type Parsed<T> = std::result::Result<T, Fail>;

impl Fail {
    pub(super) fn into_error(self, format: Format) -> Error {
        match self {
            Fail::Io(e) => Error::Transport {
                what: "inventory: reading the job output".into(),
                source: Box::new(e),
            },
            Fail::Bad(offset, message) => Error::Transport {
                what: "inventory".into(),
                source: Box::new(Malformed {
                    format,
                    offset,
                    message,
                }),
            },
        }
    }
}

/// Names a byte for an error message.
pub(super) fn found(b: Option<u8>) -> String {
    match b {
        None => "end of input".into(),
        Some(b) if b.is_ascii_graphic() || b == b' ' => format!("'{}'", b as char),
        Some(b) => format!("byte 0x{b:02x}"),
    }
}

/// A buffered reader that knows its byte offset and can peek one byte.
pub(super) struct Source<R> {
    pub(super) inner: R,
    pub(super) buf: Box<[u8]>,
    pub(super) pos: usize,
    pub(super) len: usize,
    /// Bytes consumed before `buf[0]`.
    pub(super) base: u64,
    pub(super) eof: bool,
}

impl<R: Read> Source<R> {
    pub(super) fn new(inner: R) -> Self {
        Source {
            inner,
            buf: vec![0; BUF_BYTES].into_boxed_slice(),
            pos: 0,
            len: 0,
            base: 0,
            eof: false,
        }
    }

    pub(super) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Makes at least one byte available unless the input is exhausted.
    pub(super) fn fill(&mut self) -> Parsed<bool> {
        if self.pos < self.len {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        self.base += self.len as u64;
        self.pos = 0;
        self.len = 0;
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.len = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Fail::Io(e)),
            }
        }
    }

    pub(super) fn peek(&mut self) -> Parsed<Option<u8>> {
        Ok(if self.fill()? {
            Some(self.buf[self.pos])
        } else {
            None
        })
    }

    pub(super) fn bump(&mut self) {
        self.pos += 1;
    }

    pub(super) fn next(&mut self) -> Parsed<Option<u8>> {
        let b = self.peek()?;
        if b.is_some() {
            self.bump();
        }
        Ok(b)
    }

    pub(super) fn bad<T>(&self, message: impl Into<String>) -> Parsed<T> {
        Err(Fail::Bad(self.offset(), message.into()))
    }

    /// Skips a UTF-8 byte order mark at the start of the input.
    pub(super) fn skip_bom(&mut self) -> Parsed<()> {
        if self.offset() == 0 && self.peek()? == Some(0xEF) {
            // The three bytes may straddle reads; check them one at a time.
            for want in [0xEF, 0xBB, 0xBF] {
                if self.peek()? != Some(want) {
                    return self.bad("expected a UTF-8 byte order mark (EF BB BF)");
                }
                self.bump();
            }
        }
        Ok(())
    }
}
