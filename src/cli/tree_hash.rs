//! `glacier tree-hash [--threads N] [--sha256] [--stats] FILE...`

use std::io;
use std::path::Path;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use super::{Args, Global, Output, default_threads, flags};
use crate::error::{self, Error, Result};
use crate::filehash::{self, Digests, Options};
use crate::progress::{Display, Reporter, Totals};

/// Inputs larger than this get a progress line (when stderr is a terminal).
const PROGRESS_MIN: u64 = 64 << 20;

/// The parsed `tree-hash` command.
#[derive(Debug)]
pub struct TreeHashCmd {
    threads: usize,
    sha256: bool,
    stats: bool,
    files: Vec<String>,
}

impl TreeHashCmd {
    pub(super) fn parse(mut args: Args) -> Result<Self> {
        let threads = args.whole::<usize>(&flags::HASH_THREADS)?;
        if threads == Some(0) {
            return Err(Error::Usage("--threads must be at least 1".into()));
        }
        let sha256 = args.switch(&flags::SHA256);
        let stats = args.switch(&flags::STATS);
        let files = args.positionals()?;
        if files.is_empty() {
            return Err(Error::Usage(
                "tree-hash needs at least one FILE ('-' reads standard input)".into(),
            ));
        }
        Ok(TreeHashCmd {
            threads: threads.unwrap_or_else(default_threads),
            sha256,
            stats,
            files,
        })
    }

    pub(super) fn run(self, global: &Global, out: &mut Output) -> Result<()> {
        let mut failed = 0usize;
        let mut total_bytes = 0u64;
        let started = Instant::now();
        for path in &self.files {
            let t0 = Instant::now();
            match self.hash_one(global, path) {
                Ok(d) => {
                    total_bytes += d.size;
                    let secs = t0.elapsed().as_secs_f64();
                    if global.json {
                        let mut v = json!({
                            "path": path,
                            "size": d.size,
                            "tree_hash": d.tree_hash.to_hex(),
                        });
                        if let Some(s) = d.sha256 {
                            v["sha256"] = json!(hex::encode(s));
                        }
                        out.json(&v)?;
                    } else if let Some(s) = d.sha256 {
                        out.line(&format!("{}  {}  {path}", d.tree_hash, hex::encode(s)))?;
                    } else {
                        out.line(&format!("{}  {path}", d.tree_hash))?;
                    }
                    out.flush()?;
                    if self.stats {
                        eprintln!("{}", stats_line(path, d.size, secs));
                    }
                }
                Err(Error::BrokenPipe) => return Err(Error::BrokenPipe),
                Err(e) => {
                    failed += 1;
                    eprintln!("glacier: {}", error::chain(&e));
                }
            }
        }
        if self.stats && self.files.len() > 1 {
            eprintln!(
                "{}",
                stats_line("total", total_bytes, started.elapsed().as_secs_f64())
            );
        }
        if failed > 0 {
            return Err(Error::Reported);
        }
        Ok(())
    }

    fn hash_one(&self, global: &Global, path: &str) -> Result<Digests> {
        let io_err = |e: io::Error| Error::io(PathBuf::from(path), e);
        let mut opts = Options {
            threads: self.threads,
            sha256: self.sha256,
            progress: None,
        };
        if path == "-" {
            let display = global.display();
            display.begin("stdin", Totals::default());
            opts.progress = Some(&display);
            return filehash::hash_reader(io::stdin().lock(), opts).map_err(io_err);
        }
        let input = filehash::Input::open(Path::new(path)).map_err(io_err)?;
        let show = global.progress_enabled() && input.file_len().is_none_or(|n| n >= PROGRESS_MIN);
        let display = Display::new(show, !global.quiet);
        display.begin(
            path,
            Totals {
                bytes: input.file_len(),
                items: None,
            },
        );
        opts.progress = Some(&display);
        input.hash(opts).map_err(io_err)
    }
}

fn stats_line(label: &str, bytes: u64, secs: f64) -> String {
    let rate = if secs > 0.0 {
        bytes as f64 / secs / 1e9
    } else {
        0.0
    };
    format!("stats: {label}: {bytes} bytes in {secs:.3} s = {rate:.2} GB/s")
}
