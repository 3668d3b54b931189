//! Standard output for results.
//!
//! Results that scripts read go here and nowhere else. A reader that closes the pipe
//! early (`glacier ... | head -1`) turns into [`Error::BrokenPipe`], which exits quietly.

use std::io::{self, Write};

use crate::error::{Error, Result};

/// A value Glacier may leave out, for a table or a `name: value` line: `-` when it is
/// unknown, never a made-up 0 (`--json` prints the same value as `null`).
pub fn or_dash<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// Where results go: standard output.
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

    /// Writes rows as an aligned table under a header line; an empty table prints the
    /// `empty` note instead.
    pub fn table(&mut self, header: &[&str], rows: &[Vec<String>], empty: &str) -> Result<()> {
        if rows.is_empty() {
            return self.line(empty);
        }
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for r in rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let fmt_row = |cells: Vec<&str>| {
            let mut line = String::new();
            for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
                if i + 1 == cells.len() {
                    line.push_str(c);
                } else {
                    line.push_str(&format!("{c:<w$}  "));
                }
            }
            line
        };
        self.line(&fmt_row(header.to_vec()))?;
        for r in rows {
            self.line(&fmt_row(r.iter().map(String::as_str).collect()))?;
        }
        Ok(())
    }

    /// Writes a serializable value as one line of JSON.
    pub fn json_value<T: serde::Serialize>(&mut self, v: &T) -> Result<()> {
        let s = serde_json::to_string(v).map_err(|e| Error::Input(e.to_string()))?;
        self.line(&s)
    }

    /// Flushes, so results reach a pipe before a slow next step (or the exit).
    pub fn flush(&mut self) -> Result<()> {
        self.sink.flush().map_err(map)
    }
}
