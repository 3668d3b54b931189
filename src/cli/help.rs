//! Help texts: the overview and one page per command.

use crate::error::{Error, Result};

const OVERVIEW: &str = "\
glacier - upload, resume, retrieve and verify Amazon S3 Glacier vault archives

Usage: glacier [GLOBAL OPTIONS] COMMAND [ARGS...]

Commands:
  tree-hash FILE...        print the SHA-256 tree hash of files ('-' for stdin)
  help [COMMAND]           show help for a command
  version                  show the version

Global options (before or after the command):
  --json                   machine-readable output on stdout
  -q, --quiet              no progress or notes on stderr
  -v, --verbose            log each request on stderr
  -h, --help               show help
  -V, --version            show the version

Put '--' before a value that starts with '-' (IDs that start with '-' are also
accepted as they are).

Exit codes:
  0    success
  1    the operation failed (details on stderr)
  2    usage error: bad command line or input; nothing was done
  141  standard output was closed early by its reader
";

const TREE_HASH: &str = "\
glacier tree-hash - print the SHA-256 tree hash Glacier uses to check data

Usage: glacier tree-hash [OPTIONS] FILE...

Prints '<tree hash>  <file>' per input, like sha256sum. '-' reads standard input.
A file that cannot be read is reported on stderr, the others are still hashed, and
the exit code is 1.

Options:
  -t, --threads N   worker threads for regular files (default: all cores)
      --sha256      also print the plain SHA-256 of the whole file
      --stats       print bytes, seconds and GB/s per input on stderr
      --json        one JSON object per input: path, size, tree_hash[, sha256]
";

/// The help page for `topic` (`None`: the overview).
pub fn page(topic: Option<&str>) -> Result<String> {
    match topic {
        None | Some("help") => Ok(OVERVIEW.to_string()),
        Some("tree-hash") => Ok(TREE_HASH.to_string()),
        Some(other) => Err(Error::Usage(format!(
            "no help for unknown command '{other}' (see 'glacier --help')"
        ))),
    }
}
