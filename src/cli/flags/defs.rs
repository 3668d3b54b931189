//! The definitions themselves, grouped by the command that takes them; a flag several
//! commands share with the same meaning (`--force`, `--wait`) is defined once here and
//! listed by each. Flags that share a name but not a meaning (`--threads` of `upload`
//! and of `tree-hash`) are separate definitions: their help and defaults differ.

use super::Flag;

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
           sent (the environment's GLACIER_MIN_UPLOAD_RATE=KIB\n\
           sets that rate, for slow uplinks)",
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
    default: Some("the file name, or NAME.tar.xz when packed"),
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
           xz threads, then the single-threaded encoder, then fewer parts\n\
           in flight are used to fit",
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
    help: "only archives whose ID hashes to shard K of N;\n\
           auto/N: K from JOB_COMPLETION_INDEX or\n\
           AWS_BATCH_JOB_ARRAY_INDEX (0-based) + 1",
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
    help: "download threads in all, shared by the archives fetched\n\
           at once and their chunks",
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
/// `vault export --storage-class` (to s3:// only).
pub const STORAGE_CLASS: Flag = Flag {
    long: "--storage-class",
    value: Some("CLASS"),
    help: "S3 only: DEEP_ARCHIVE, GLACIER, GLACIER_IR,\nSTANDARD_IA or STANDARD",
    default: Some("DEEP_ARCHIVE"),
    choices: &[
        "DEEP_ARCHIVE",
        "GLACIER",
        "GLACIER_IR",
        "STANDARD_IA",
        "STANDARD",
    ],
    ..Flag::VALUE
};
/// `vault export --s3-endpoint-url` (to s3:// only).
pub const S3_ENDPOINT_URL: Flag = Flag {
    long: "--s3-endpoint-url",
    value: Some("URL"),
    help: "S3 only: the endpoint (else AWS_ENDPOINT_URL_S3,\n\
           AWS_ENDPOINT_URL, the profile's endpoint_url, AWS's)",
    ..Flag::VALUE
};
/// `vault export --s3-part-size` (to s3:// only).
pub const S3_PART_SIZE: Flag = Flag {
    long: "--s3-part-size",
    value: Some("SIZE"),
    help: "S3 only: multipart part size, 5M to 5G, rounded up to\n\
           a power of two (at most 4G), raised when an archive\n\
           would need more than 10,000 parts; parts stream from\n\
           Glacier, so memory does not grow with the part size",
    default: Some("16M"),
    ..Flag::VALUE
};
/// `vault export --max-memory` (to s3:// only).
pub const EXPORT_MAX_MEMORY: Flag = Flag {
    long: "--max-memory",
    value: Some("MiB"),
    help: "S3 only: cap on the buffers of the parts in flight\n\
           (about 4 MiB each, whatever the part size)",
    default: Some("512"),
    ..Flag::VALUE
};
/// `vault export --journal` (to s3:// only; a directory export keeps it in DIR).
pub const EXPORT_JOURNAL: Flag = Flag {
    long: "--journal",
    value: Some("DIR"),
    help: "S3 only: where the journal and manifest live (see above)",
    ..Flag::VALUE
};

// ---- vault purge (and the selection flags of vault export above) --------------------

/// `vault purge --only-exported`.
pub const ONLY_EXPORTED: Flag = Flag {
    long: "--only-exported",
    value: Some("WHERE"),
    help: "WHERE is DIR or s3://BUCKET/PREFIX: delete only archives\n\
           the export there (glacier vault export) records as\n\
           exported and verified, with the inventory's size and tree\n\
           hash, and whose file or object (same archive ID, tree\n\
           hash, size) is still there",
    ..Flag::VALUE
};
/// `vault purge --journal`.
pub const PURGE_JOURNAL: Flag = Flag {
    long: "--journal",
    value: Some("FILE"),
    help: "the journal; a new inventory job's output is kept\n\
           beside it as VAULT.inventory.json",
    default: Some("$XDG_DATA_HOME/glacier-upload/purge/VAULT.jsonl"),
    ..Flag::VALUE
};
/// `vault purge --threads`.
pub const PURGE_THREADS: Flag = Flag {
    long: "--threads",
    short: Some("-t"),
    value: Some("N"),
    help: "deletions in flight, 1 to 64",
    default: Some("8"),
    ..Flag::VALUE
};
/// `vault purge --yes`.
pub const YES: Flag = Flag {
    long: "--yes",
    short: Some("-y"),
    help: "no question",
    ..Flag::SWITCH
};
/// `vault purge --dry-run`.
pub const PURGE_DRY_RUN: Flag = Flag {
    long: "--dry-run",
    help: "count, bytes and the first names; sends no DeleteArchive",
    ..Flag::SWITCH
};
/// `vault purge --delete-vault`.
pub const DELETE_VAULT: Flag = Flag {
    long: "--delete-vault",
    help: "then delete the vault; Glacier refuses until its next\n\
           inventory (about a day after the last deletion) shows it\n\
           empty: the run says so, prints the command to run then,\n\
           and still exits 0",
    ..Flag::SWITCH
};

// ---- archive delete ------------------------------------------------------------------

/// `archive delete --threads` (with several IDs or `-`).
pub const DELETE_THREADS: Flag = Flag {
    long: "--threads",
    short: Some("-t"),
    value: Some("N"),
    help: "deletions in flight with several IDs, 1 to 64",
    default: Some("4"),
    ..Flag::VALUE
};
