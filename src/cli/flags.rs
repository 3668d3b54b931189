//! Every command-line flag, defined once: its spellings, value name, default, one-line
//! help and how its value is checked.
//!
//! A [`Flag`] is the single source for three things that used to drift apart: the parser
//! (`Args::switch`, `Args::whole`, `Args::choice`... take a `&Flag` and read every
//! spelling it lists), the option lists of `glacier help COMMAND` (generated from the
//! per-command lists at the bottom of this file by [`options`]), and the tests that hold
//! README and help to the parser (in this file: every flag a command's parser accepts is
//! on its help page, and every flag the README's command reference names exists).
//!
//! Adding or converting a flag is mechanical:
//! 1. add a `pub const NAME: Flag = Flag { long: "--name", ..Flag::SWITCH }` (or
//!    `..Flag::VALUE` with `value: Some("N")`) here, with its help line and default;
//! 2. add `&NAME` to the list of the command that accepts it (`UPLOAD`, `EXPORT`...);
//!    a new command gets a new list and a `help.rs` page that calls `options`;
//! 3. in the command's `parse`, replace `args.flag("--name")` with
//!    `args.switch(&flags::NAME)` and `args.value::<T>(&["--name", "-n"])` with
//!    `args.text`, `args.path`, `args.whole`, `args.choice` or `args.parsed(&NAME, f)`,
//!    whose errors read `--name 'value' is not a whole number` / `--name 'value': why`.
//!
//! The `default` shown in help is text; where the parser falls back to a constant, a
//! test below checks that the two agree.

/// One command-line flag.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// The long spelling, `--threads`: the name errors use.
    pub long: &'static str,
    /// The one-letter spelling, `-t`.
    pub short: Option<&'static str>,
    /// Other accepted spellings (kept for compatibility with other tools).
    pub aliases: &'static [&'static str],
    /// The value's name in help (`N`, `FILE`); `None` for a switch that takes no value.
    pub value: Option<&'static str>,
    /// What happens without the flag, as help shows it.
    pub default: Option<&'static str>,
    /// One line of help; `\n` continues it on the next line of the page.
    pub help: &'static str,
    /// The accepted values of an enumerated flag (checked by `Args::choice`).
    pub choices: &'static [&'static str],
}

impl Flag {
    /// A switch without aliases, default or choices: the base for `..Flag::SWITCH`.
    pub const SWITCH: Flag = Flag {
        long: "",
        short: None,
        aliases: &[],
        value: None,
        default: None,
        help: "",
        choices: &[],
    };

    /// The base for a flag that takes a value (set `value` too).
    pub const VALUE: Flag = Flag {
        value: Some("VALUE"),
        ..Flag::SWITCH
    };

    /// Every spelling, the long one first.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.long)
            .chain(self.short)
            .chain(self.aliases.iter().copied())
    }
}

/// Help lines are wrapped at this many columns (where a default or alias would pass it).
const PAGE_WIDTH: usize = 88;

/// The help lines for `flags`: `  -t, --threads N   help (default: 4) (alias: ...)`, the
/// help column aligned within the list.
pub fn options(flags: &[&Flag]) -> String {
    let left = |f: &Flag| {
        let short = match f.short {
            Some(s) => format!("{s}, "),
            None => "    ".to_string(),
        };
        match f.value {
            Some(v) => format!("  {short}{} {v}", f.long),
            None => format!("  {short}{}", f.long),
        }
    };
    let width = flags.iter().map(|f| left(f).len()).max().unwrap_or(0) + 2;
    let mut out = String::new();
    for f in flags {
        let mut lines: Vec<String> = f.help.lines().map(|l| l.trim().to_string()).collect();
        let default = f.default.map(|d| format!("(default: {d})"));
        let alias = (!f.aliases.is_empty()).then(|| format!("(alias: {})", f.aliases.join(", ")));
        for extra in default.iter().chain(alias.iter()) {
            // A default may hold its own line breaks; its first line goes where it fits.
            let mut extra_lines = extra.lines();
            let first = extra_lines.next().unwrap_or("");
            match lines.last_mut() {
                Some(last) if width + last.len() + 1 + first.len() <= PAGE_WIDTH => {
                    last.push(' ');
                    last.push_str(first);
                }
                _ => lines.push(first.to_string()),
            }
            lines.extend(extra_lines.map(|l| l.trim().to_string()));
        }
        for (i, l) in lines.iter().enumerate() {
            let head = if i == 0 { left(f) } else { String::new() };
            out.push_str(&format!("{head:width$}{l}\n"));
        }
    }
    out
}

// ---- Global flags: every command, before or after it -------------------------------

/// `--json`.
pub const JSON: Flag = Flag {
    long: "--json",
    help: "machine-readable output on stdout",
    ..Flag::SWITCH
};
/// `--quiet`.
pub const QUIET: Flag = Flag {
    long: "--quiet",
    short: Some("-q"),
    help: "no progress or notes on stderr",
    ..Flag::SWITCH
};
/// `--verbose`.
pub const VERBOSE: Flag = Flag {
    long: "--verbose",
    short: Some("-v"),
    help: "log each request (never secrets) on stderr",
    ..Flag::SWITCH
};
/// `--region`.
pub const REGION: Flag = Flag {
    long: "--region",
    value: Some("REGION"),
    help: "AWS region (else AWS_REGION, AWS_DEFAULT_REGION, profile)",
    ..Flag::VALUE
};
/// `--profile`.
pub const PROFILE: Flag = Flag {
    long: "--profile",
    value: Some("NAME"),
    help: "profile from ~/.aws/config and ~/.aws/credentials",
    ..Flag::VALUE
};
/// `--endpoint-url`.
pub const ENDPOINT_URL: Flag = Flag {
    long: "--endpoint-url",
    value: Some("URL"),
    help: "endpoint (else AWS_ENDPOINT_URL_GLACIER, AWS_ENDPOINT_URL,\n\
           profile endpoint_url,\n\
           https://glacier.REGION.amazonaws.com)",
    ..Flag::VALUE
};
/// `--account-id`.
pub const ACCOUNT_ID: Flag = Flag {
    long: "--account-id",
    value: Some("ID"),
    help: "account ID in request paths",
    default: Some("'-': your own"),
    ..Flag::VALUE
};
/// `--allow-http`.
pub const ALLOW_HTTP: Flag = Flag {
    long: "--allow-http",
    help: "allow a plain http:// endpoint that is not loopback",
    ..Flag::SWITCH
};
/// `--max-attempts`.
pub const MAX_ATTEMPTS: Flag = Flag {
    long: "--max-attempts",
    value: Some("N"),
    help: "attempts per request, retries included",
    default: Some("10"),
    ..Flag::VALUE
};
/// `--connect-timeout`.
pub const CONNECT_TIMEOUT: Flag = Flag {
    long: "--connect-timeout",
    value: Some("SECS"),
    help: "connection set-up limit",
    default: Some("10"),
    ..Flag::VALUE
};
/// `--timeout`.
pub const TIMEOUT: Flag = Flag {
    long: "--timeout",
    value: Some("SECS"),
    help: "longest silence while waiting for an answer or reading a\n\
           download; an upload request gets this plus 1 s per 64 KiB\n\
           sent",
    default: Some("60"),
    ..Flag::VALUE
};
/// `--help`.
pub const HELP: Flag = Flag {
    long: "--help",
    short: Some("-h"),
    help: "show help",
    ..Flag::SWITCH
};
/// `--version`.
pub const VERSION: Flag = Flag {
    long: "--version",
    short: Some("-V"),
    help: "show the version",
    ..Flag::SWITCH
};

// ---- Shared by several commands -----------------------------------------------------

/// `--description` of a retrieval or inventory job.
pub const JOB_DESCRIPTION: Flag = Flag {
    long: "--description",
    short: Some("-d"),
    value: Some("TEXT"),
    help: "job description (printable ASCII, at most 1,024)",
    ..Flag::VALUE
};
/// `--wait` when starting a job.
pub const WAIT_START: Flag = Flag {
    long: "--wait",
    help: "print the job ID, then wait until the job succeeds",
    ..Flag::SWITCH
};
/// `--wait` when fetching a job's output.
pub const WAIT_GET: Flag = Flag {
    long: "--wait",
    help: "wait for the job to finish first (polls with growing intervals)",
    ..Flag::SWITCH
};
/// `--force` for a download target.
pub const FORCE: Flag = Flag {
    long: "--force",
    help: "replace FILE if it exists (also a symbolic link at FILE)",
    ..Flag::SWITCH
};

// ---- tree-hash ----------------------------------------------------------------------

/// `tree-hash --threads`.
pub const HASH_THREADS: Flag = Flag {
    long: "--threads",
    short: Some("-t"),
    value: Some("N"),
    help: "worker threads for regular files",
    default: Some("all cores"),
    ..Flag::VALUE
};
/// `tree-hash --sha256`.
pub const SHA256: Flag = Flag {
    long: "--sha256",
    help: "also print the plain SHA-256 of the whole file",
    ..Flag::SWITCH
};
/// `tree-hash --stats`.
pub const STATS: Flag = Flag {
    long: "--stats",
    help: "print bytes, seconds and GB/s per input on stderr",
    ..Flag::SWITCH
};

// ---- upload -------------------------------------------------------------------------

/// `upload --description`.
pub const DESCRIPTION: Flag = Flag {
    long: "--description",
    short: Some("-d"),
    aliases: &["--arc-desc"],
    value: Some("TEXT"),
    help: "archive description, at most 1,024 printable ASCII characters",
    default: Some("the file name, or a summary of packed inputs"),
    ..Flag::VALUE
};
/// `upload --part-size`.
pub const PART_SIZE: Flag = Flag {
    long: "--part-size",
    short: Some("-p"),
    value: Some("MiB"),
    help: "part size, a power of two from 1 to 4096",
    default: Some(
        "the\nsmallest of 8, 16, 32... that fits the file in 10,000\n\
         parts; 64 for standard input, which can then be up to 625 GiB",
    ),
    ..Flag::VALUE
};
/// `upload --threads`.
pub const UPLOAD_THREADS: Flag = Flag {
    long: "--threads",
    short: Some("-t"),
    aliases: &["--num-threads"],
    value: Some("N"),
    help: "parts in flight, 1 to 64",
    default: Some("4"),
    ..Flag::VALUE
};
/// `upload --max-memory`.
pub const MAX_MEMORY: Flag = Flag {
    long: "--max-memory",
    value: Some("MiB"),
    help: "cap on part buffers and, when packing, the xz encoder: fewer\n\
           xz threads are used to fit",
    default: Some("512"),
    ..Flag::VALUE
};
/// `upload --upload-id`.
pub const UPLOAD_ID: Flag = Flag {
    long: "--upload-id",
    short: Some("-u"),
    value: Some("ID"),
    help: "resume this multipart upload",
    ..Flag::VALUE
};
/// `upload --no-resume`.
pub const NO_RESUME: Flag = Flag {
    long: "--no-resume",
    help: "start a new upload even if an interrupted one of the same\n\
           input is found",
    ..Flag::SWITCH
};
/// `upload --compression`.
pub const COMPRESSION: Flag = Flag {
    long: "--compression",
    value: Some("KIND"),
    help: "packed uploads: xz (a .tar.xz) or none (a plain .tar, for\n\
           inputs already compressed: photos, video)",
    default: Some("xz"),
    choices: &["xz", "none"],
    ..Flag::VALUE
};
/// `upload --xz-level`.
pub const XZ_LEVEL: Flag = Flag {
    long: "--xz-level",
    value: Some("N"),
    help: "xz preset 0-9 for packed uploads (0: about 8 MB/s of mixed\n\
           data per core here, 41% of the input; higher levels shrink\n\
           text a little more at 2-6x the CPU time)",
    default: Some("0"),
    ..Flag::VALUE
};
/// `upload --receipts`.
pub const RECEIPTS: Flag = Flag {
    long: "--receipts",
    value: Some("FILE"),
    help: "append the receipt here",
    default: Some(
        "\n$XDG_DATA_HOME/glacier-upload/receipts.jsonl, else\n\
         ~/.local/share/glacier-upload/receipts.jsonl",
    ),
    ..Flag::VALUE
};
/// `upload --no-receipts`.
pub const NO_RECEIPTS: Flag = Flag {
    long: "--no-receipts",
    help: "do not write a receipt",
    ..Flag::SWITCH
};

// ---- archive ------------------------------------------------------------------------

/// `archive init-retrieval --tier`.
pub const RETRIEVAL_TIER: Flag = Flag {
    long: "--tier",
    value: Some("T"),
    help: "Expedited, Standard or Bulk",
    default: Some("Standard"),
    choices: &["Expedited", "Standard", "Bulk"],
    ..Flag::VALUE
};
/// `archive init-retrieval --range`.
pub const RANGE: Flag = Flag {
    long: "--range",
    value: Some("START-END"),
    help: "bytes to retrieve (inclusive); START a multiple of 1 MiB,\n\
           END+1 a multiple of 1 MiB or the archive's size",
    ..Flag::VALUE
};
/// `archive init-retrieval --sns-topic`.
pub const SNS_TOPIC: Flag = Flag {
    long: "--sns-topic",
    value: Some("ARN"),
    help: "notify this SNS topic when the job finishes",
    ..Flag::VALUE
};
/// `archive get --threads`.
pub const GET_THREADS: Flag = Flag {
    long: "--threads",
    short: Some("-t"),
    value: Some("N"),
    help: "chunks downloaded in parallel, 1 to 64",
    default: Some("4"),
    ..Flag::VALUE
};
/// `archive get --chunk-size`.
pub const CHUNK_SIZE: Flag = Flag {
    long: "--chunk-size",
    value: Some("MiB"),
    help: "chunk size, a power of two up to 1024",
    default: Some("32"),
    ..Flag::VALUE
};

// ---- inventory ----------------------------------------------------------------------

/// `inventory init-retrieval --format`.
pub const JOB_FORMAT: Flag = Flag {
    long: "--format",
    value: Some("JSON|CSV"),
    help: "output format of the job",
    default: Some("JSON"),
    ..Flag::VALUE
};
/// `inventory init-retrieval --start-date`.
pub const START_DATE: Flag = Flag {
    long: "--start-date",
    value: Some("DATE"),
    help: "only archives created at or after DATE (2026-01-31 or\n\
           2026-01-31T12:00:00Z)",
    ..Flag::VALUE
};
/// `inventory init-retrieval --end-date`.
pub const END_DATE: Flag = Flag {
    long: "--end-date",
    value: Some("DATE"),
    help: "only archives created before DATE",
    ..Flag::VALUE
};
/// `inventory init-retrieval --limit`.
pub const LIMIT: Flag = Flag {
    long: "--limit",
    value: Some("N"),
    help: "at most N archives; a partial list's job carries a marker\n\
           (shown by 'jobs describe' and 'inventory get')",
    ..Flag::VALUE
};
/// `inventory init-retrieval --marker`.
pub const MARKER: Flag = Flag {
    long: "--marker",
    value: Some("M"),
    help: "continue a partial inventory from the marker M",
    ..Flag::VALUE
};
/// `inventory get --format`.
pub const RENDER: Flag = Flag {
    long: "--format",
    value: Some("F"),
    help: "table, json (the document), jsonl (one archive per line)\nor csv",
    default: Some("table"),
    ..Flag::VALUE
};
/// `inventory get --output`.
pub const OUTPUT: Flag = Flag {
    long: "--output",
    short: Some("-o"),
    value: Some("FILE"),
    help: "save the inventory as Glacier sent it (not with --format)",
    ..Flag::VALUE
};

// ---- jobs ---------------------------------------------------------------------------

/// `jobs list --completed`.
pub const COMPLETED: Flag = Flag {
    long: "--completed",
    value: Some("true|false"),
    help: "only jobs that have (or have not) finished",
    choices: &["true", "false"],
    ..Flag::VALUE
};
/// `jobs list --status`.
pub const STATUS: Flag = Flag {
    long: "--status",
    value: Some("S"),
    help: "only jobs in this state: InProgress, Succeeded or Failed",
    choices: &["InProgress", "Succeeded", "Failed"],
    ..Flag::VALUE
};

// ---- vault export -------------------------------------------------------------------

/// `vault export --tier`.
pub const EXPORT_TIER: Flag = Flag {
    long: "--tier",
    value: Some("T"),
    help: "retrieval tier: Bulk (the cheapest), Standard or Expedited",
    default: Some("Bulk"),
    choices: &["Bulk", "Standard", "Expedited"],
    ..Flag::VALUE
};
/// `vault export --inventory`.
pub const INVENTORY_FILE: Flag = Flag {
    long: "--inventory",
    value: Some("FILE"),
    help: "use a downloaded inventory (JSON or CSV)",
    ..Flag::VALUE
};
/// `vault export --inventory-job`.
pub const INVENTORY_JOB: Flag = Flag {
    long: "--inventory-job",
    value: Some("JOB_ID"),
    help: "use a finished inventory job's output",
    default: Some("start an inventory job, kept in the journal"),
    ..Flag::VALUE
};
/// `vault export --include`.
pub const INCLUDE: Flag = Flag {
    long: "--include",
    value: Some("GLOB"),
    help: "only names matching (repeatable; * ? [..] within a\n\
           directory, ** across directories)",
    ..Flag::VALUE
};
/// `vault export --exclude`.
pub const EXCLUDE: Flag = Flag {
    long: "--exclude",
    value: Some("GLOB"),
    help: "skip names matching (repeatable, as --include)",
    ..Flag::VALUE
};
/// `vault export --created-after`.
pub const CREATED_AFTER: Flag = Flag {
    long: "--created-after",
    value: Some("DATE"),
    help: "created at or after DATE (YYYY-MM-DD or RFC 3339)",
    ..Flag::VALUE
};
/// `vault export --created-before`.
pub const CREATED_BEFORE: Flag = Flag {
    long: "--created-before",
    value: Some("DATE"),
    help: "created before DATE",
    ..Flag::VALUE
};
/// `vault export --shard`.
pub const SHARD: Flag = Flag {
    long: "--shard",
    value: Some("K/N"),
    help: "only archives whose ID hashes to shard K of N",
    ..Flag::VALUE
};
/// `vault export --max-jobs`.
pub const MAX_JOBS: Flag = Flag {
    long: "--max-jobs",
    value: Some("N"),
    help: "retrieval jobs outstanding at most",
    default: Some("1000"),
    ..Flag::VALUE
};
/// `vault export --max-pending`.
pub const MAX_PENDING: Flag = Flag {
    long: "--max-pending",
    value: Some("SIZE"),
    help: "bytes outstanding at most (e.g. 500G)",
    default: Some("no limit"),
    ..Flag::VALUE
};
/// `vault export --threads`.
pub const EXPORT_THREADS: Flag = Flag {
    long: "--threads",
    short: Some("-t"),
    value: Some("N"),
    help: "download threads per archive",
    default: Some("4"),
    ..Flag::VALUE
};
/// `vault export --poll`.
pub const POLL: Flag = Flag {
    long: "--poll",
    value: Some("DURATION"),
    help: "time between job checks",
    default: Some("Bulk 30m, Standard\n15m, Expedited 30s"),
    ..Flag::VALUE
};
/// `vault export --no-wait`.
pub const NO_WAIT: Flag = Flag {
    long: "--no-wait",
    help: "do what can be done now; exit 3 if work remains",
    ..Flag::SWITCH
};
/// `vault export --dry-run`.
pub const DRY_RUN: Flag = Flag {
    long: "--dry-run",
    help: "the plan only (count, bytes, requests, names); sends\nno InitiateJob",
    ..Flag::SWITCH
};

// ---- What each command accepts: its parser takes these, its help page lists them ------

/// Global flags (the overview page).
pub const GLOBAL: &[&Flag] = &[
    &JSON,
    &QUIET,
    &VERBOSE,
    &REGION,
    &PROFILE,
    &ENDPOINT_URL,
    &ACCOUNT_ID,
    &ALLOW_HTTP,
    &MAX_ATTEMPTS,
    &CONNECT_TIMEOUT,
    &TIMEOUT,
    &HELP,
    &VERSION,
];
/// `tree-hash`.
pub const TREE_HASH: &[&Flag] = &[&HASH_THREADS, &SHA256, &STATS];
/// `upload`.
pub const UPLOAD: &[&Flag] = &[
    &DESCRIPTION,
    &PART_SIZE,
    &UPLOAD_THREADS,
    &MAX_MEMORY,
    &UPLOAD_ID,
    &NO_RESUME,
    &COMPRESSION,
    &XZ_LEVEL,
    &RECEIPTS,
    &NO_RECEIPTS,
];
/// `archive init-retrieval`.
pub const ARCHIVE_INIT: &[&Flag] = &[
    &RETRIEVAL_TIER,
    &RANGE,
    &JOB_DESCRIPTION,
    &SNS_TOPIC,
    &WAIT_START,
];
/// `archive get`.
pub const ARCHIVE_GET: &[&Flag] = &[&WAIT_GET, &GET_THREADS, &CHUNK_SIZE, &FORCE];
/// `inventory init-retrieval`.
pub const INVENTORY_INIT: &[&Flag] = &[
    &JOB_FORMAT,
    &START_DATE,
    &END_DATE,
    &LIMIT,
    &MARKER,
    &JOB_DESCRIPTION,
    &WAIT_START,
];
/// `inventory get`.
pub const INVENTORY_GET: &[&Flag] = &[&WAIT_GET, &RENDER, &OUTPUT, &FORCE];
/// `jobs list`.
pub const JOBS_LIST: &[&Flag] = &[&COMPLETED, &STATUS];
/// `vault export`.
pub const EXPORT: &[&Flag] = &[
    &EXPORT_TIER,
    &INVENTORY_FILE,
    &INVENTORY_JOB,
    &INCLUDE,
    &EXCLUDE,
    &CREATED_AFTER,
    &CREATED_BEFORE,
    &SHARD,
    &MAX_JOBS,
    &MAX_PENDING,
    &EXPORT_THREADS,
    &POLL,
    &NO_WAIT,
    &DRY_RUN,
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::ffi::OsString;

    use super::*;
    use crate::error::Error;

    const ARCHIVE_ID: &str = "NkbByEejwEggmBz2fTHgJrg0XBoDfjP4q6iu87-TjhqG6eGoOY9Z8i1_AUyUsuhPAdTqLHy8pTl5nfCFJmDl2yEZONi5L26Omw12vcs01MNGntHEQL8MBfGlqrEXAMPLEArchiveId";
    const JOB_ID: &str = "HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVh7vEXAMPLEjobID";
    const UPLOAD_ID: &str = "OW2fM5iVylEpFEMM9_HpKowRapC3vn5sSL39_396UW9zLFUWVrnRHaPjUJddQ5OxSHVXjYtrN47NBZ-khxOjyEXAMPLE";

    /// Every command the parser knows, with positionals that get it past `exact`, and
    /// the flags it should accept. `every_command_is_probed` keeps this table whole.
    fn commands() -> Vec<(
        Vec<&'static str>,
        Vec<&'static str>,
        &'static [&'static Flag],
    )> {
        vec![
            (vec!["tree-hash"], vec!["x"], TREE_HASH),
            (vec!["upload"], vec!["v", "x"], UPLOAD),
            (
                vec!["archive", "init-retrieval"],
                vec!["v", ARCHIVE_ID],
                ARCHIVE_INIT,
            ),
            (
                vec!["archive", "get"],
                vec!["v", JOB_ID, "/nonexistent/out"],
                ARCHIVE_GET,
            ),
            (vec!["archive", "delete"], vec!["v", ARCHIVE_ID], &[]),
            (
                vec!["inventory", "init-retrieval"],
                vec!["v"],
                INVENTORY_INIT,
            ),
            (vec!["inventory", "get"], vec!["v", JOB_ID], INVENTORY_GET),
            (vec!["jobs", "list"], vec!["v"], JOBS_LIST),
            (vec!["jobs", "describe"], vec!["v", JOB_ID], &[]),
            (vec!["uploads", "list"], vec!["v"], &[]),
            (vec!["uploads", "parts"], vec!["v", UPLOAD_ID], &[]),
            (vec!["uploads", "abort"], vec!["v", UPLOAD_ID], &[]),
            (vec!["vault", "list"], vec![], &[]),
            (vec!["vault", "describe"], vec!["v"], &[]),
            (vec!["vault", "create"], vec!["v"], &[]),
            (vec!["vault", "delete"], vec!["v"], &[]),
            (
                vec!["vault", "export"],
                vec!["v", "/nonexistent/dir"],
                EXPORT,
            ),
            (vec!["version"], vec![], &[]),
        ]
    }

    fn parse(argv: &[&str]) -> crate::error::Result<()> {
        super::super::parse(argv.iter().map(OsString::from).collect()).map(|_| ())
    }

    /// Does the parser of `words` take `flag` (as a switch or with the next argument as
    /// its value)? Anything but "unknown flag 'FLAG'" means it does.
    fn accepts(words: &[&str], positionals: &[&str], flag: &str) -> bool {
        let mut argv = words.to_vec();
        argv.push(flag);
        argv.extend(positionals);
        match parse(&argv) {
            Err(Error::Usage(m)) => !m.starts_with(&format!("unknown flag '{flag}'")),
            _ => true,
        }
    }

    /// The `-x` / `--long-name` tokens in `text`.
    fn flag_tokens(text: &str) -> BTreeSet<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|t| {
                let long = t.strip_prefix("--").is_some_and(|r| {
                    r.starts_with(|c: char| c.is_ascii_lowercase())
                        && r.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                });
                let short = t.len() == 2
                    && t.starts_with('-')
                    && t[1..].starts_with(|c: char| c.is_ascii_alphabetic());
                long || short
            })
            .map(str::to_string)
            .collect()
    }

    fn all_lists() -> Vec<&'static [&'static Flag]> {
        vec![
            GLOBAL,
            TREE_HASH,
            UPLOAD,
            ARCHIVE_INIT,
            ARCHIVE_GET,
            INVENTORY_INIT,
            INVENTORY_GET,
            JOBS_LIST,
            EXPORT,
        ]
    }

    /// Every flag-looking string in the parser's sources (`src/cli/*.rs`), in the
    /// definitions and in the README: the names worth probing the parser with.
    fn candidates() -> BTreeSet<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/cli");
        let mut out = BTreeSet::new();
        for entry in std::fs::read_dir(dir).expect("src/cli") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("source");
            for lit in text.split('"').skip(1).step_by(2) {
                out.extend(flag_tokens(lit).into_iter().filter(|t| t == lit));
            }
        }
        for list in all_lists() {
            out.extend(list.iter().flat_map(|f| f.names()).map(String::from));
        }
        out.extend(flag_tokens(include_str!("../../README.md")));
        out
    }

    #[test]
    fn every_command_is_probed() {
        let table: BTreeSet<String> = commands().iter().map(|(w, _, _)| w.join(" ")).collect();
        // The commands the overview lists, and the actions each of them offers (from the
        // parser's own "needs one of" message), must all be in the probe table.
        let overview = super::super::help::page(None).expect("overview");
        let section = overview
            .split("Commands:\n")
            .nth(1)
            .and_then(|s| s.split("\n\n").next())
            .expect("Commands section");
        for line in section.lines() {
            let word = line.split_whitespace().next().expect("command word");
            if word == "help" {
                continue;
            }
            match parse(&[word]) {
                Err(Error::Usage(m)) if m.contains("needs one of: ") => {
                    let actions = m.split("needs one of: ").nth(1).expect("list");
                    let actions = actions.split(" (").next().expect("list");
                    for a in actions.split(", ") {
                        let cmd = format!("{word} {a}");
                        assert!(table.contains(&cmd), "'{cmd}' is not probed here");
                    }
                }
                _ => assert!(table.contains(word), "'{word}' is not probed here"),
            }
        }
    }

    #[test]
    fn every_flag_a_command_accepts_is_on_its_help_page() {
        let candidates = candidates();
        let global: BTreeSet<&str> = GLOBAL.iter().flat_map(|f| f.names()).collect();
        for (words, positionals, list) in commands() {
            let topic = words.join(" ");
            // `version` has no page of its own: the overview describes it.
            let page_topic = (topic != "version").then_some(topic.as_str());
            let page = super::super::help::page(page_topic).expect("page");
            let listed = flag_tokens(&page);
            for c in &candidates {
                if accepts(&words, &positionals, c) {
                    assert!(
                        listed.contains(c) || global.contains(c.as_str()),
                        "'glacier {topic}' accepts {c}, but 'glacier help {topic}' does not list it"
                    );
                }
            }
            // And the other way: what the definitions say it takes, it takes.
            for name in list.iter().flat_map(|f| f.names()) {
                assert!(
                    accepts(&words, &positionals, name),
                    "'glacier {topic}' lists {name} but does not parse it"
                );
                assert!(listed.contains(name), "{name} missing from 'help {topic}'");
            }
        }
        // Global flags are taken by every command and listed on the overview.
        let overview = flag_tokens(&super::super::help::page(None).expect("overview"));
        for name in &global {
            assert!(overview.contains(*name), "{name} missing from the overview");
            assert!(accepts(&["vault", "list"], &[], name), "{name} not parsed");
        }
    }

    #[test]
    fn the_probe_sees_an_unknown_flag() {
        // The test above relies on this: a flag nobody parses is reported as unknown.
        assert!(!accepts(&["upload"], &["v", "x"], "--bogus"));
        assert!(!accepts(&["vault", "list"], &[], "-d"));
        assert!(accepts(&["upload"], &["v", "x"], "--arc-desc"));
    }

    #[test]
    fn the_readme_names_no_flag_the_parser_lacks() {
        let readme = include_str!("../../README.md");
        let commands = readme
            .split("\n## Commands\n")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .expect("README has a Commands section");
        let defined: BTreeSet<&str> = all_lists()
            .into_iter()
            .flatten()
            .flat_map(|f| f.names())
            .collect();
        let tokens = flag_tokens(commands);
        assert!(tokens.contains("--part-size"), "the scan finds flags");
        for t in tokens {
            assert!(
                defined.contains(t.as_str()),
                "README's Commands section names {t}, which no command defines"
            );
            assert!(
                commands_accepting(&t) > 0,
                "README's Commands section names {t}, which no command parses"
            );
        }
    }

    fn commands_accepting(flag: &str) -> usize {
        commands()
            .iter()
            .filter(|(w, p, _)| accepts(w, p, flag))
            .count()
    }

    #[test]
    fn defaults_shown_are_the_defaults_used() {
        use super::super::{archive, export, upload};
        let shown = |f: &Flag| f.default.expect("has a default").to_string();
        assert_eq!(shown(&UPLOAD_THREADS), upload::DEFAULT_THREADS.to_string());
        assert_eq!(
            shown(&MAX_MEMORY),
            upload::DEFAULT_MAX_MEMORY_MIB.to_string()
        );
        assert_eq!(shown(&XZ_LEVEL), crate::pack::DEFAULT_XZ_LEVEL.to_string());
        assert_eq!(shown(&GET_THREADS), archive::DEFAULT_THREADS.to_string());
        assert_eq!(
            shown(&CHUNK_SIZE),
            (crate::download::DEFAULT_CHUNK_SIZE >> 20).to_string()
        );
        assert_eq!(shown(&MAX_JOBS), export::DEFAULT_MAX_JOBS.to_string());
        assert_eq!(shown(&EXPORT_THREADS), export::DEFAULT_THREADS.to_string());
        assert_eq!(
            shown(&MAX_ATTEMPTS),
            crate::glacier::RetryPolicy::default()
                .max_attempts
                .to_string()
        );
    }

    #[test]
    fn option_lists_align_and_wrap() {
        let text = options(&[&SHA256, &UPLOAD_THREADS]);
        assert_eq!(
            text,
            "      --sha256     also print the plain SHA-256 of the whole file\n  \
             -t, --threads N  parts in flight, 1 to 64 (default: 4) (alias: --num-threads)\n"
        );
        for list in all_lists() {
            for line in options(list).lines() {
                assert!(line.len() <= PAGE_WIDTH, "too wide: {line}");
            }
        }
    }
}
