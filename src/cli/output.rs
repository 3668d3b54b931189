//! Standard output for results.
//!
//! Results that scripts read go here and nowhere else. A reader that closes the pipe
//! early (`glacier ... | head -1`) turns into [`Error::BrokenPipe`], which exits quietly.

use std::io::{self, Write};

use crate::error::{Error, Result};

/// Where results go: stdout, or a buffer in tests.
pub struct Output {
    sink: Box<dyn Write>,
}

fn map(e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Error::BrokenPipe
    } else {
        Error::io("-", e)
    }
}

impl Output {
    /// Buffered standard output.
    pub fn stdout() -> Output {
        Output {
            sink: Box::new(io::BufWriter::new(io::stdout())),
        }
    }

    /// Any writer (tests).
    pub fn to_writer(w: impl Write + 'static) -> Output {
        Output { sink: Box::new(w) }
    }

    /// Writes `s` followed by a newline.
    pub fn line(&mut self, s: &str) -> Result<()> {
        self.sink.write_all(s.as_bytes()).map_err(map)?;
        self.sink.write_all(b"\n").map_err(map)
    }

    /// Writes `s` as is.
    pub fn text(&mut self, s: &str) -> Result<()> {
        self.sink.write_all(s.as_bytes()).map_err(map)
    }

    /// Writes one JSON value on its own line.
    pub fn json(&mut self, v: &serde_json::Value) -> Result<()> {
        self.line(&v.to_string())
    }

    /// Flushes, so results reach a pipe before a slow next step (or the exit).
    pub fn flush(&mut self) -> Result<()> {
        self.sink.flush().map_err(map)
    }
}
