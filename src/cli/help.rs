//! Help texts: the overview and one page per command.

use crate::error::{Error, Result};

const OVERVIEW: &str = "\
glacier - upload, resume, retrieve and verify Amazon S3 Glacier vault archives

Usage: glacier [GLOBAL OPTIONS] COMMAND [ARGS...]

Commands:
  upload VAULT FILE...                 upload a file, stdin, or several files/dirs packed
  vault list|describe|create|delete    manage vaults
  vault export VAULT DIR               every archive out, verified, resumable
  vault purge VAULT                    delete every archive (restartable), then the vault
  archive init-retrieval|get|delete    retrieve (two steps) or delete an archive
  inventory init-retrieval|get         list a vault's archives (two steps)
  jobs list|describe                   show retrieval jobs
  uploads list|parts|abort             show or abort multipart uploads in progress
  tree-hash FILE...                    print the SHA-256 tree hash of files
  help [COMMAND]                       show help for a command
  version                              show the version

Global options (before or after the command):
  --json                   machine-readable output on stdout
  -q, --quiet              no progress or notes on stderr
  -v, --verbose            log each request (never secrets) on stderr
  --region REGION          AWS region (else AWS_REGION, AWS_DEFAULT_REGION, profile)
  --profile NAME           profile from ~/.aws/config and ~/.aws/credentials
  --endpoint-url URL       endpoint (else AWS_ENDPOINT_URL_GLACIER, AWS_ENDPOINT_URL,
                           profile endpoint_url, https://glacier.REGION.amazonaws.com)
  --account-id ID          account ID in request paths (default '-': your own)
  --allow-http             allow a plain http:// endpoint that is not loopback
  --max-attempts N         attempts per request, retries included (default 10)
  --connect-timeout SECS   connection set-up limit (default 10)
  --timeout SECS           longest silence while waiting for an answer or reading a
                           download (default 60); an upload request gets this plus
                           1 s per 64 KiB sent
  -h, --help               show help
  -V, --version            show the version

Put '--' before a value that starts with '-' (IDs that start with '-' are also
accepted as they are).

Exit codes:
  0    success
  1    the operation failed (details on stderr)
  2    usage error: bad command line or input; nothing was done
  3    the job is not finished yet (archive get, inventory get without --wait;
       vault export --no-wait while work remains)
  129  interrupted by SIGHUP (a closed terminal), like Ctrl-C
  130  interrupted by Ctrl-C (the message says how to resume)
  143  interrupted by SIGTERM (timeout, systemd), like Ctrl-C
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

const UPLOAD: &str = "\
glacier upload - upload an archive to a vault

Usage: glacier upload [OPTIONS] VAULT FILE...

One regular FILE is uploaded as it is; '-' uploads standard input; several FILEs or a
directory are packed into one .tar.xz stream, uploaded as it is produced (no temporary
file). Packing is deterministic (entries sorted; mtime and permission bits kept; owner
0, no user names; symlinks stored as links), so an interrupted packed upload resumes
when the inputs are unchanged; a file that changes while it is packed stops the upload. Below 100 MiB a single request is used,
otherwise a multipart upload with parts sent in parallel. Every part is checked by
SHA-256 tree hash, and the archive's tree hash is compared with Glacier's.

Prints the archive ID on stdout (--json: an object with archive_id, vault, size,
tree_hash, description, location, upload_id) and appends the same record as one JSON
line to the receipts file, so an archive ID is never lost. A multipart upload prints
its upload ID on stderr as soon as it starts; if the run is interrupted, running the
same command again resumes it (the upload is found by vault, absolute path, size and
modification time, or by the packing fingerprint), as does the printed command with
--upload-id ID: parts Glacier has are verified against the local data and only the
rest is sent.

Options:
  -d, --description TEXT  archive description, at most 1,024 printable ASCII characters
                          (default: the file name, or a summary of packed inputs)
                          (alias: --arc-desc)
  -p, --part-size MiB     part size, a power of two from 1 to 4096 (default: the
                          smallest of 8, 16, 32... that fits the file in 10,000 parts;
                          64 for standard input, which can then be up to 625 GiB)
  -t, --threads N         parts in flight (default 4) (alias: --num-threads)
      --max-memory MiB    cap on part buffers and, when packing, the xz encoder: fewer
                          xz threads are used to fit (default 512)
  -u, --upload-id ID      resume this multipart upload
      --no-resume         start a new upload even if an interrupted one of the same
                          input is found
      --compression KIND  packed uploads: xz (default, a .tar.xz) or none (a plain
                          .tar, for inputs already compressed: photos, video)
      --xz-level N        xz preset 0-9 for packed uploads (default 0: about 8 MB/s
                          of mixed data per core here, 41% of the input; higher levels
                          shrink text a little more at 2-6x the CPU time)
      --receipts FILE     append the receipt here (default:
                          $XDG_DATA_HOME/glacier-upload/receipts.jsonl, else
                          ~/.local/share/glacier-upload/receipts.jsonl)
      --no-receipts       do not write a receipt

Ctrl-C, SIGTERM and SIGHUP stop scheduling parts, let parts in flight finish, print
the resume command and exit with 130, 143 or 129; a second signal exits at once, except
once the request that creates the archive is sent: then signals are held until the
archive ID is in the receipts file and on stdout.
";

const INVENTORY: &str = "\
glacier inventory - list what a vault holds (two steps)

Usage:
  glacier inventory init-retrieval [OPTIONS] VAULT
  glacier inventory get [OPTIONS] VAULT JOB_ID

Glacier keeps no live list of a vault's archives: an inventory job produces one
(usually within hours), taken from the vault's last daily inventory.

init-retrieval options:
      --format JSON|CSV     output format of the job (default JSON)
      --start-date DATE     only archives created at or after DATE (2026-01-31 or
                            2026-01-31T12:00:00Z)
      --end-date DATE       only archives created before DATE
      --limit N             at most N archives; a partial list's job carries a marker
                            (shown by 'jobs describe' and 'inventory get')
      --marker M            continue a partial inventory from the marker M
  -d, --description TEXT    job description
      --wait                print the job ID, then wait until the job succeeds

get options:
      --wait                wait for the job to finish first
      --format F            table (default), json (the document), jsonl (one archive
                            per line) or csv
  -o, --output FILE         save the inventory as Glacier sent it (not with --format)
      --force               replace FILE if it exists

Inventories are read as a stream (they can exceed memory); a job that is not finished
exits with code 3.
";

const VAULT: &str = "\
glacier vault - manage vaults

Usage:
  glacier vault list                 every vault: archives, size, dates (--json: array)
  glacier vault describe VAULT       one vault's details
  glacier vault create VAULT         create a vault (succeeds if it exists)
  glacier vault delete VAULT         delete a vault; Glacier refuses one that is not
                                     empty, or written since its last inventory
  glacier vault export [OPTIONS] VAULT DIR
                                     every archive out into DIR, named, verified,
                                     resumable (see below)
  glacier vault export [OPTIONS] VAULT s3://BUCKET/PREFIX
                                     the same, streamed into S3 objects
  glacier vault purge [OPTIONS] VAULT
                                     delete the archives of an inventory (see below)

Vault names: 1 to 255 letters, digits, '_', '-' or '.'.
Archive counts and sizes are those of Glacier's last (about daily) inventory of the
vault: '-' (null with --json) until the first one.
Archive counts and sizes come from the vault's last inventory (Glacier updates it
about once a day).

vault export: starts a retrieval job per archive, downloads each finished one with
the verified parallel download into DIR/NAME (tree hash and size checked against the
job and the inventory, then renamed into place), and keeps a journal in
DIR/.glacier-export/ so that running the same command again continues where it
stopped and never pays for a second retrieval of an archive whose job is still valid
(an expired or failed job is started again, and the run says so). Names come from the
descriptions (mt-aws-glacier mt1/mt2, FastGlacier, plain paths), else the archive ID;
they never leave DIR; same-name archives get a creation-date (then ID) suffix.
Writes DIR/glacier-export-manifest.csv and .jsonl.

To s3://BUCKET/PREFIX: each archive streams from its job output into the object
PREFIX/NAME (no local copy; memory about threads x part size): each Glacier chunk is
checked against its tree hash before it is sent on, each part carries its SHA-256
checksum, and the object is completed only when the whole archive's tree hash equals
the inventory's (else the upload is aborted and the archive reported). Objects carry
the archive ID, tree hash, creation date and description as x-amz-meta-glacier-*
metadata; an object already there with the same archive ID and tree hash is skipped.
The journal and manifest are kept in --journal DIR (default
$XDG_DATA_HOME/glacier-upload/export/BUCKET/HASH, HASH of vault and prefix); the
manifest is copied to PREFIX/.glacier-export/ at the end of the run.

Export options:
  --tier Bulk|Standard|Expedited   retrieval tier (default Bulk, the cheapest)
  --inventory FILE         use a downloaded inventory (JSON or CSV)
  --inventory-job JOB_ID   use a finished inventory job's output
                           (default: start an inventory job, kept in the journal)
  --include GLOB           only names matching (repeatable; * ? [..] within a
  --exclude GLOB           directory, ** across directories)
  --created-after DATE     created at or after DATE (YYYY-MM-DD or RFC 3339)
  --created-before DATE    created before DATE
  --shard K/N              only archives whose ID hashes to shard K of N
  --max-jobs N             retrieval jobs outstanding at most (default 1000)
  --max-pending SIZE       bytes outstanding at most (e.g. 500G; default no limit)
  -t, --threads N          download threads per archive (default 4)
  --poll DURATION          time between job checks (default Bulk 30m, Standard
                           15m, Expedited 30s)
  --no-wait                do what can be done now; exit 3 if work remains
  --dry-run                the plan only (count, bytes, requests, names); sends
                           no InitiateJob

S3 options (only with s3://BUCKET/PREFIX):
  --storage-class CLASS    DEEP_ARCHIVE (default), GLACIER, GLACIER_IR,
                           STANDARD_IA or STANDARD
  --s3-endpoint-url URL    S3 endpoint (else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL,
                           the profile's endpoint_url, AWS's for the region)
  --s3-part-size SIZE      multipart part size (default 16M; 5M to 5G, raised
                           when an archive would need more than 10,000 parts)
  --journal DIR            where the journal and manifest live (see above)

Exit: 0 every archive in scope exported and verified; 1 failures (listed on
stderr); 3 with --no-wait while work remains.

vault purge: deletes the archives of an inventory, -t at a time, and records each
deletion (synced) in a journal, so running the same command again after a crash or
kill -9 sends nothing for what is done. A 404 counts as already deleted; throttling
slows the run down (pauses and goes on) instead of failing it. Archives uploaded
after the inventory's date are not in it and are not deleted (the run says so). On a
terminal without --yes it shows the count and bytes and asks you to type the vault
name; without a terminal and without --yes it exits 2 and sends nothing.
Summary on stdout (--json: deleted, already_gone, skipped, failed, not_exported...).

Purge options (and --inventory, --inventory-job, --include, --exclude,
--created-after, --created-before, --shard as for export):
  --only-exported DIR|s3://BUCKET/PREFIX
                           delete only archives the export there (glacier vault
                           export) records as exported and verified, with the
                           inventory's size and tree hash, and whose file or
                           object (same archive ID, tree hash, size) is there
  --s3-endpoint-url URL    S3 endpoint for s3://, as for vault export
  --journal FILE           the journal (default
                           $XDG_DATA_HOME/glacier-upload/purge/VAULT.jsonl; a new
                           inventory job's output is kept beside it as
                           VAULT.inventory.json)
  -t, --threads N          deletions in flight (default 8, at most 64)
  -y, --yes                no question
  --dry-run                count, bytes and the first names; sends no DeleteArchive
  --delete-vault           then delete the vault; Glacier refuses until its next
                           inventory (about a day after the last deletion) shows it
                           empty: the run says so, prints the command to run then,
                           and still exits 0

Exit: 0 every archive in scope deleted or already gone; 1 some failed (listed on
stderr) or a wrong vault name was typed; 2 no terminal and no --yes (nothing sent).
";

const ARCHIVE: &str = "\
glacier archive - retrieve or delete archives

Usage:
  glacier archive init-retrieval [OPTIONS] VAULT ARCHIVE_ID
  glacier archive get [OPTIONS] VAULT JOB_ID FILE
  glacier archive delete [-t N] VAULT ARCHIVE_ID... | -

Retrieval takes two steps: init-retrieval starts a job and prints its ID (stdout;
--json for an object); when the job has finished (hours for Standard), get downloads
its output.

init-retrieval options:
      --tier T            Expedited, Standard (default) or Bulk
      --range START-END   bytes to retrieve (inclusive); START a multiple of 1 MiB,
                          END+1 a multiple of 1 MiB or the archive's size
  -d, --description TEXT  job description (printable ASCII, at most 1,024)
      --sns-topic ARN     notify this SNS topic when the job finishes
      --wait              print the job ID, then wait until the job succeeds

get options:
      --wait              wait for the job to finish first (polls with growing intervals)
  -t, --threads N         chunks downloaded in parallel (default 4)
      --chunk-size MiB    chunk size, a power of two up to 1024 (default 32)
      --force             replace FILE if it exists (also a symbolic link at FILE)

get downloads into FILE.glacier-part, checks every chunk against the tree hash Glacier
sends and fetches a bad chunk again, checks the whole against the job's tree hash,
and only then renames it to FILE. Interrupted, it keeps verified chunks: run the same
command again to resume. FILE '-' writes to standard output, in order, each chunk
verified before it is written.

delete with one ARCHIVE_ID deletes it (a missing archive is an error). With several,
or '-' to read them one per line from standard input, it deletes -t N at a time
(default 4): an archive already gone (404) is counted, not an error; throttling
pauses and goes on; the summary goes to stderr (--json: an object on stdout with
deleted, already_gone, failed) and the exit code is 1 if any failed.

A job that is not finished exits with code 3 (scripts can poll on it).
ARCHIVE_ID and JOB_ID may begin with '-'; they are accepted as they are, or after '--'.
";

const JOBS: &str = "\
glacier jobs - show retrieval jobs

Usage:
  glacier jobs list [--completed true|false] [--status InProgress|Succeeded|Failed] VAULT
  glacier jobs describe VAULT JOB_ID
";

const UPLOADS: &str = "\
glacier uploads - multipart uploads in progress

Usage:
  glacier uploads list VAULT               uploads not yet completed or aborted
  glacier uploads parts VAULT UPLOAD_ID    the parts Glacier has for one upload
  glacier uploads abort VAULT UPLOAD_ID    abort it; its parts are discarded
";

/// The help page for `topic` (`None`: the overview).
pub fn page(topic: Option<&str>) -> Result<String> {
    match topic {
        None | Some("help") => Ok(OVERVIEW.to_string()),
        Some("tree-hash") => Ok(TREE_HASH.to_string()),
        Some("upload") => Ok(UPLOAD.to_string()),
        Some(t) if t == "inventory" || t.starts_with("inventory ") => Ok(INVENTORY.to_string()),
        Some(t) if t == "vault" || t.starts_with("vault ") => Ok(VAULT.to_string()),
        Some(t) if t == "archive" || t.starts_with("archive ") => Ok(ARCHIVE.to_string()),
        Some(t) if t == "jobs" || t.starts_with("jobs ") => Ok(JOBS.to_string()),
        Some(t) if t == "uploads" || t.starts_with("uploads ") => Ok(UPLOADS.to_string()),
        Some(other) => Err(Error::Usage(format!(
            "no help for unknown command '{other}' (see 'glacier --help')"
        ))),
    }
}
