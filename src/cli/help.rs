//! Help texts: the overview and one page per command.
//!
//! Only prose lives here (usage lines, what a command does, exit codes); the option
//! lists are generated from `flags`, so a flag cannot be parsed without being listed.

use super::flags::{self, options};
use crate::error::{Error, Result};

const OVERVIEW: &str = "\
glacier - upload, resume, retrieve and verify Amazon S3 Glacier vault archives

Usage: glacier [GLOBAL OPTIONS] COMMAND [ARGS...]

Commands:
  upload VAULT FILE...                 upload a file, stdin, or several files/dirs packed
  vault list|describe|create|delete    manage vaults
  vault export VAULT DIR               every archive out, verified, resumable
  vault purge VAULT                    delete every archive (restartable), then the vault
  vault plan VAULT                     what an export would cost and risk, before paying
  archive init-retrieval|get|delete    retrieve (two steps) or delete an archive
  inventory init-retrieval|get         list a vault's archives (two steps)
  jobs list|describe                   show retrieval jobs
  uploads list|parts|abort             show or abort multipart uploads in progress
  tree-hash FILE...                    print the SHA-256 tree hash of files
  help [COMMAND]                       show help for a command
  version                              show the version

Global options (before or after the command):
";

const OVERVIEW_END: &str = "\n\
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
the exit code is 1. With --json: one JSON object per input: path, size, tree_hash
(and sha256).

Options:
";

const UPLOAD: &str = "\
glacier upload - upload an archive to a vault

Usage: glacier upload [OPTIONS] VAULT FILE...

One regular FILE is uploaded as it is; '-' uploads standard input; several FILEs or a
directory are packed into one .tar.xz stream (a plain .tar with --compression none),
uploaded as it is produced (no temporary file). Packing is deterministic (entries
sorted; mtime and permission bits kept; owner 0, no user names; symlinks stored as
links), so an interrupted packed upload resumes when the inputs are unchanged; a file
that changes while it is packed stops the upload. Below 100 MiB a single request is
used, otherwise a multipart upload with parts sent in parallel. Every part is checked
by SHA-256 tree hash, and the archive's tree hash is compared with Glacier's.

Prints the archive ID on stdout (--json: an object with archive_id, vault, size,
tree_hash, description, location, upload_id) and appends the same record as one JSON
line to the receipts file, so an archive ID is never lost. A multipart upload prints
its upload ID on stderr as soon as it starts; if the run is interrupted, running the
same command again resumes it (the upload is found by vault, absolute path, size and
modification time, or by the packing fingerprint), as does the printed command with
--upload-id ID: parts Glacier has are verified against the local data and only the
rest is sent.

Options:
";

const UPLOAD_END: &str = "\n\
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
";

const INVENTORY_GET: &str = "\n\
get options:
";

const INVENTORY_END: &str = "\n\
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
  glacier vault plan [OPTIONS] VAULT cost and risks of an export, before paying

Vault names: 1 to 255 letters, digits, '_', '-' or '.'.
Archive counts and sizes are those of Glacier's last (about daily) inventory of the
vault: '-' (null with --json) until the first one.

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
";

const VAULT_PURGE: &str = "\n\
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

Purge options (the inventory and selection ones as for export):
";

const VAULT_END: &str = "\n\
Exit: 0 every archive in scope deleted or already gone; 1 some failed (listed on
stderr) or a wrong vault name was typed; 2 no terminal and no --yes (nothing sent).
";

/// `vault plan` and `vault delete --when-empty` (issue 21): one block, option lists
/// spliced in where the `{PLAN}` and `{DELETE}` markers stand.
const VAULT_PLAN_AND_DELETE: &str = "\n\
glacier vault plan [OPTIONS] VAULT: what an export would cost and risk, from the
inventory alone; sends no billed request (with --inventory FILE, nothing at all).
Prints the archives in scope and their bytes, a size histogram, the cost of
retrieving them in each tier (Expedited, Standard, Bulk: per GB and per request, one
request per archive), with --to s3://BUCKET/PREFIX the S3 PUT requests and the monthly
storage of each storage class (with S3's 40 KiB per-object overhead for GLACIER and
DEEP_ARCHIVE), the early-deletion charge a purge now would incur for archives younger
than 90 days, how many days --max-bytes-per-day pacing takes, and the risks: empty or
unparsable descriptions (exported under the archive ID), name collisions (computed
with the export's naming, and --names), archives over S3's 5 TiB object limit.
The inventory: --inventory FILE, --inventory-job JOB_ID (its output is read, not
kept), or the one an earlier export to --to saved. Prices: a dated table of us-east-1
list prices shipped with glacier (its source pages in its header); --prices FILE
takes one of the same form. --json prints the same as an object.

Plan options:
{PLAN}
glacier vault delete --when-empty [--wait [--poll DURATION]] VAULT: Glacier deletes
a vault only when its last inventory (about daily) shows it empty and nothing was
written since. This checks DescribeVault's inventory date and archive count, and
sends DeleteVault as soon as they allow it. Without --wait it exits 3 ('not yet',
with why and when to try again): a cron line can repeat it. With --wait it checks
every --poll until the vault is gone (Ctrl-C stops; nothing is deleted then).

Delete options:
{DELETE}";

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
";

const ARCHIVE_GET: &str = "\n\
get options:
";

const ARCHIVE_DELETE: &str = "\n\
delete options:
";

const ARCHIVE_END: &str = "\n\
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
  glacier jobs list [OPTIONS] VAULT
  glacier jobs describe VAULT JOB_ID

list options:
";

const UPLOADS: &str = "\
glacier uploads - multipart uploads in progress

Usage:
  glacier uploads list VAULT               uploads not yet completed or aborted
  glacier uploads parts VAULT UPLOAD_ID    the parts Glacier has for one upload
  glacier uploads abort VAULT UPLOAD_ID    abort it; its parts are discarded
";

/// The help page for `topic` (`None`: the overview). The prose is written here; every
/// option list comes from the flag definitions in `flags`.
pub fn page(topic: Option<&str>) -> Result<String> {
    let is = |t: &str, name: &str| t == name || t.starts_with(&format!("{name} "));
    Ok(match topic {
        None | Some("help") => [OVERVIEW, &options(flags::GLOBAL), OVERVIEW_END].concat(),
        Some("tree-hash") => [TREE_HASH, &options(flags::TREE_HASH)].concat(),
        Some("upload") => [UPLOAD, &options(flags::UPLOAD), UPLOAD_END].concat(),
        Some(t) if is(t, "inventory") => [
            INVENTORY,
            &options(flags::INVENTORY_INIT),
            INVENTORY_GET,
            &options(flags::INVENTORY_GET),
            INVENTORY_END,
        ]
        .concat(),
        Some(t) if is(t, "vault") => [
            VAULT,
            &options(flags::EXPORT),
            VAULT_PURGE,
            &options(flags::PURGE),
            VAULT_END,
            &VAULT_PLAN_AND_DELETE
                .replace("{PLAN}", &options(flags::PLAN))
                .replace("{DELETE}", &options(flags::VAULT_DELETE)),
        ]
        .concat(),
        Some(t) if is(t, "archive") => [
            ARCHIVE,
            &options(flags::ARCHIVE_INIT),
            ARCHIVE_GET,
            &options(flags::ARCHIVE_GET),
            ARCHIVE_DELETE,
            &options(flags::ARCHIVE_DELETE),
            ARCHIVE_END,
        ]
        .concat(),
        Some(t) if is(t, "jobs") => [JOBS, &options(flags::JOBS_LIST)].concat(),
        Some(t) if is(t, "uploads") => UPLOADS.to_string(),
        Some(other) => {
            return Err(Error::Usage(format!(
                "no help for unknown command '{other}' (see 'glacier --help')"
            )));
        }
    })
}
