//! Help texts: the overview, a short page per command group and one page per action.
//!
//! Only prose lives here (usage lines, what an action does, exit codes); the option
//! lists are generated from `flags`, so a flag cannot be parsed without being listed.
//! [`ACTIONS`] is the one table of what the command line offers: help pages, the man
//! page and the shell completions (`generate.rs`) are all made from it and the flag
//! lists it points at. [`action_command`] is the command line for each thing the
//! library's advice tells the user to do next.

use super::flags::{self, Flag, options};
use crate::error::{self, Error, Result};

/// One thing the command line does: `glacier vault export`, `glacier upload`.
#[derive(Debug)]
pub struct Action {
    /// The words that name it: `vault export`.
    pub words: &'static str,
    /// What follows the words on a usage line, one line per form.
    pub usage: &'static [&'static str],
    /// One line: what it does (the page title, the man page and completions).
    pub summary: &'static str,
    /// The flags it takes besides the global ones.
    pub flags: &'static [&'static Flag],
    /// The prose before the option list.
    pub about: &'static str,
    /// The prose after the option list (exit codes, signals), if any.
    pub after: &'static str,
}

impl Action {
    /// The command group (`vault`) and the action word (`export`), if there is one.
    pub fn group(&self) -> (&'static str, Option<&'static str>) {
        match self.words.split_once(' ') {
            Some((g, a)) => (g, Some(a)),
            None => (self.words, None),
        }
    }

    /// The action's own help page.
    pub fn page(&self) -> String {
        let mut out = format!("glacier {} - {}\n\n", self.words, self.summary);
        for (i, form) in self.usage.iter().enumerate() {
            let head = if i == 0 { "Usage:" } else { "      " };
            out.push_str(&format!("{head} glacier {} {form}\n", self.words).replace(" \n", "\n"));
        }
        if !self.about.is_empty() {
            out.push('\n');
            out.push_str(self.about);
        }
        if !self.flags.is_empty() {
            out.push_str("\nOptions:\n");
            out.push_str(&options(self.flags));
        }
        if !self.after.is_empty() {
            out.push('\n');
            out.push_str(self.after);
        }
        out.push_str("\nGlobal options (--json, --region, --profile...): see 'glacier --help'.\n");
        out
    }
}

/// A command with several actions (`vault`): its title and what its actions share.
pub struct Group {
    /// The command word: `vault`.
    pub name: &'static str,
    /// One line: what its actions are for.
    pub title: &'static str,
    /// What its actions share, said once on its page.
    pub about: &'static str,
}

/// The commands that have actions.
pub const GROUPS: &[Group] = &[
    Group {
        name: "vault",
        title: "manage, export or empty vaults",
        about: VAULT_ABOUT,
    },
    Group {
        name: "archive",
        title: "retrieve (two steps) or delete archives",
        about: ARCHIVE_ABOUT,
    },
    Group {
        name: "inventory",
        title: "list what a vault holds (two steps)",
        about: INVENTORY_ABOUT,
    },
    Group {
        name: "jobs",
        title: "show retrieval jobs",
        about: "",
    },
    Group {
        name: "uploads",
        title: "multipart uploads in progress",
        about: "",
    },
];

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
  help [COMMAND [ACTION]]              show help for a command or one action
  version                              show the version

Global options (before or after the command):
";

const OVERVIEW_END: &str = "\n\
Put '--' before a value that starts with '-' (IDs that start with '-' are also
accepted as they are).

Exit codes:
";

/// The exit codes, for the overview and the man page.
pub const EXIT_CODES: &str = "\
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

/// Every action, in the order of the overview. A new command or action gets a row here
/// (a test fails until it does); a new flag only needs adding to its list in `flags`.
pub const ACTIONS: &[Action] = &[
    Action {
        words: "upload",
        usage: &["[OPTIONS] VAULT FILE..."],
        summary: "upload an archive to a vault",
        flags: flags::UPLOAD,
        about: UPLOAD,
        after: UPLOAD_END,
    },
    Action {
        words: "vault list",
        usage: &[""],
        summary: "every vault: archives, size, dates (--json: array)",
        flags: &[],
        about: "",
        after: "",
    },
    Action {
        words: "vault describe",
        usage: &["VAULT"],
        summary: "one vault's details",
        flags: &[],
        about: "",
        after: "",
    },
    Action {
        words: "vault create",
        usage: &["VAULT"],
        summary: "create a vault (succeeds if it exists)",
        flags: &[],
        about: "",
        after: "",
    },
    Action {
        words: "vault delete",
        usage: &["[--when-empty [--wait [--poll DURATION] | --no-wait]] VAULT"],
        summary: "delete a vault (or as soon as Glacier's inventory shows it empty)",
        flags: flags::VAULT_DELETE,
        about: VAULT_DELETE,
        after: "",
    },
    Action {
        words: "vault export",
        usage: &["[OPTIONS] VAULT DIR", "[OPTIONS] VAULT s3://BUCKET/PREFIX"],
        summary: "every archive out into DIR or S3, named, verified, resumable",
        flags: flags::EXPORT,
        about: VAULT_EXPORT,
        after: VAULT_EXPORT_END,
    },
    Action {
        words: "vault purge",
        usage: &["[OPTIONS] VAULT"],
        summary: "delete the archives of an inventory (restartable), then the vault",
        flags: flags::PURGE,
        about: VAULT_PURGE,
        after: VAULT_PURGE_END,
    },
    Action {
        words: "vault plan",
        usage: &["[OPTIONS] VAULT"],
        summary: "what an export would cost and risk, before paying",
        flags: flags::PLAN,
        about: VAULT_PLAN,
        after: "",
    },
    Action {
        words: "archive init-retrieval",
        usage: &[
            "[OPTIONS] VAULT ARCHIVE_ID",
            "[OPTIONS] --name PATH --inventory FILE VAULT",
        ],
        summary: "start a retrieval job for an archive; prints its ID",
        flags: flags::ARCHIVE_INIT,
        about: ARCHIVE_INIT,
        after: IDS_WITH_DASH,
    },
    Action {
        words: "archive get",
        usage: &["[OPTIONS] VAULT JOB_ID FILE"],
        summary: "download a finished retrieval job's archive, verified",
        flags: flags::ARCHIVE_GET,
        about: ARCHIVE_GET,
        after: JOB_NOT_DONE,
    },
    Action {
        words: "archive delete",
        usage: &["[OPTIONS] VAULT ARCHIVE_ID...", "[OPTIONS] VAULT -"],
        summary: "delete archives",
        flags: flags::ARCHIVE_DELETE,
        about: ARCHIVE_DELETE,
        after: IDS_WITH_DASH,
    },
    Action {
        words: "inventory init-retrieval",
        usage: &["[OPTIONS] VAULT"],
        summary: "start an inventory job; prints the job ID",
        flags: flags::INVENTORY_INIT,
        about: INVENTORY_INIT,
        after: "",
    },
    Action {
        words: "inventory get",
        usage: &["[OPTIONS] VAULT JOB_ID"],
        summary: "show or save a finished inventory job's list of archives",
        flags: flags::INVENTORY_GET,
        about: INVENTORY_GET,
        after: JOB_NOT_DONE,
    },
    Action {
        words: "jobs list",
        usage: &["[OPTIONS] VAULT"],
        summary: "a vault's retrieval jobs",
        flags: flags::JOBS_LIST,
        about: "",
        after: "",
    },
    Action {
        words: "jobs describe",
        usage: &["VAULT JOB_ID"],
        summary: "one job's details",
        flags: &[],
        about: "",
        after: "",
    },
    Action {
        words: "uploads list",
        usage: &["VAULT"],
        summary: "multipart uploads not yet completed or aborted",
        flags: &[],
        about: "",
        after: "",
    },
    Action {
        words: "uploads parts",
        usage: &["VAULT UPLOAD_ID"],
        summary: "the parts Glacier has for one upload",
        flags: &[],
        about: "",
        after: "",
    },
    Action {
        words: "uploads abort",
        usage: &["VAULT UPLOAD_ID"],
        summary: "abort a multipart upload; its parts are discarded",
        flags: &[],
        about: "",
        after: "",
    },
    Action {
        words: "tree-hash",
        usage: &["[OPTIONS] FILE..."],
        summary: "print the SHA-256 tree hash Glacier uses to check data",
        flags: flags::TREE_HASH,
        about: TREE_HASH,
        after: "",
    },
    Action {
        words: "version",
        usage: &[""],
        summary: "print the version (also: glacier --version)",
        flags: &[],
        about: "",
        after: "",
    },
];

/// The help page for `topic` (`None`: the overview): an action's page (`vault export`),
/// a group's index (`vault`), or the overview. Words after an action (`help vault export
/// photos`) are ignored.
pub fn page(topic: Option<&str>) -> Result<String> {
    let Some(topic) = topic.filter(|t| *t != "help") else {
        return Ok([OVERVIEW, &options(flags::GLOBAL), OVERVIEW_END, EXIT_CODES].concat());
    };
    let words: Vec<&str> = topic.split_whitespace().collect();
    let two = words.iter().take(2).copied().collect::<Vec<_>>().join(" ");
    let one = words.first().copied().unwrap_or_default();
    if let Some(a) = ACTIONS.iter().find(|a| a.words == two || a.words == one) {
        return Ok(a.page());
    }
    if let Some(g) = GROUPS.iter().find(|g| g.name == one) {
        return Ok(group_page(g));
    }
    Err(Error::Usage(format!(
        "no help for unknown command '{topic}' (see 'glacier --help')"
    )))
}

/// Is there a page for exactly these words (`vault export`)?
pub fn has_action(words: &str) -> bool {
    ACTIONS.iter().any(|a| a.words == words)
}

/// The command that does each library [`error::Action`], with its arguments: the words the
/// library's advice uses once `cli::main` installs this ([`error::name_actions`]).
pub fn action_command(action: error::Action<'_>) -> String {
    use error::Action as A;
    match action {
        A::ListJobs { vault } => format!("glacier jobs list {vault}"),
        A::DescribeJob => "glacier jobs describe".into(),
        A::GetArchiveOutput => "glacier archive get".into(),
        A::GetInventoryOutput => "glacier inventory get".into(),
        A::ListUploads { vault } => format!("glacier uploads list {vault}"),
        A::AbortUpload { vault, upload_id } => {
            format!("glacier uploads abort {vault} {upload_id}")
        }
        A::DeleteArchive => "glacier archive delete".into(),
        A::ExportVault => "glacier vault export".into(),
        A::DeleteVault { vault } => {
            format!("glacier vault delete {} {vault}", flags::WHEN_EMPTY.long)
        }
    }
}

/// A group's index: each action's usage and summary, then what they share.
fn group_page(g: &Group) -> String {
    let mut out = format!("glacier {} - {}\n\nUsage:\n", g.name, g.title);
    for a in ACTIONS.iter().filter(|a| a.group().0 == g.name) {
        for form in a.usage {
            out.push_str(&format!("  glacier {} {form}\n", a.words).replace(" \n", "\n"));
        }
        out.push_str(&format!("      {}\n", a.summary));
    }
    if !g.about.is_empty() {
        out.push('\n');
        out.push_str(g.about);
    }
    out.push_str(&format!(
        "\nRun 'glacier help {} ACTION' (or 'glacier {} ACTION --help') for an action's\noptions.\n",
        g.name, g.name
    ));
    out
}

const TREE_HASH: &str = "\
Prints '<tree hash>  <file>' per input, like sha256sum. '-' reads standard input.
A file that cannot be read is reported on stderr, the others are still hashed, and
the exit code is 1. With --json: one JSON object per input: path, size, tree_hash
(and sha256).
";

const UPLOAD: &str = "\
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
";

const UPLOAD_END: &str = "\
Ctrl-C, SIGTERM and SIGHUP stop scheduling parts, let parts in flight finish, print
the resume command and exit with 130, 143 or 129; a second signal exits at once, except
once the request that creates the archive is sent: then signals are held until the
archive ID is in the receipts file and on stdout.
";

const INVENTORY_ABOUT: &str = "\
Glacier keeps no live list of a vault's archives: an inventory job produces one
(usually within hours), taken from the vault's last daily inventory.
";

const INVENTORY_INIT: &str = INVENTORY_ABOUT;

const INVENTORY_GET: &str = "\
Prints each archive's ID, size, creation date, the name vault export would give it
(from the description: mt-aws-glacier, FastGlacier or a plain path, with the same
suffix for shared names) and its description: a table by default, --format csv (a
Name column after Glacier's five) or jsonl (a name member). For names the inventory
is saved to a temporary file, verified, and read twice. --format json prints Glacier's
document as sent (no names), as it arrives; -o FILE saves it, verified, like
archive get.
";

const JOB_NOT_DONE: &str = "\
A job that is not finished exits with code 3 (scripts can poll on it); --wait waits
for it.
";

const VAULT_ABOUT: &str = "\
Vault names: 1 to 255 letters, digits, '_', '-' or '.'.
Archive counts and sizes are those of Glacier's last (about daily) inventory of the
vault: '-' (null with --json) until the first one.
";

const VAULT_DELETE: &str = "\
Glacier refuses to delete a vault that is not empty, or that was written to since its
last (about daily) inventory.

--when-empty checks DescribeVault's inventory date and archive count, and sends
DeleteVault as soon as they allow it. Without --wait it exits 3 ('not yet', with why
and when to try again): a cron line can repeat it. With --wait it checks every --poll
until the vault is gone (Ctrl-C stops; nothing is deleted then).
";

const VAULT_PLAN: &str = "\
What an export would cost and risk, from the inventory alone; sends no billed request
(with --inventory FILE, nothing at all). Prints the archives in scope and their bytes,
a size histogram, the cost of retrieving them in each tier (Expedited, Standard, Bulk:
per GB and per request, one request per archive), with --to s3://BUCKET/PREFIX the S3
PUT requests and the monthly storage of each storage class (with S3's 40 KiB
per-object overhead for GLACIER and DEEP_ARCHIVE), the early-deletion charge a purge
now would incur for archives younger than 90 days, how many days --max-bytes-per-day
pacing takes, and the risks: empty or unparsable descriptions (exported under the
archive ID), name collisions (computed with the export's naming, and --names), archives
over S3's 5 TiB object limit.
The inventory: --inventory FILE, --inventory-job JOB_ID (its output is read, not
kept), or the one an earlier export to --to saved. Prices: a dated table of us-east-1
list prices shipped with glacier (its source pages in its header); --prices FILE takes
one of the same form. --names FILE: a CSV of archive_id,name whose names replace the
descriptions'. --json prints the same as an object.
";

const VAULT_EXPORT: &str = "\
Starts a retrieval job per archive, downloads each finished one with the verified
parallel download into DIR/NAME (tree hash and size checked against the job and the
inventory, then renamed into place), and keeps a journal in DIR/.glacier-export/ so
that running the same command again continues where it stopped and never pays for a
second retrieval of an archive whose job is still valid (a job expired, failed or with
under 5 h of output left is started again, said so). Names come from --names FILE (CSV
archive_id,name) for the archives it lists, else the descriptions (mt-aws-glacier
mt1/mt2, FastGlacier, plain paths); an empty description names 00undefined/ID, one
that cannot be made safe 00error/ID; names never leave DIR; same-name archives get a
creation-date (then ID) suffix. Writes DIR/glacier-export-manifest.csv and .jsonl, and
DIR/glacier-export-failed.csv (archive ID, description, size, reason) while any
archive failed. --shard K/N (or auto/N: K from JOB_COMPLETION_INDEX or
AWS_BATCH_JOB_ARRAY_INDEX, 0-based) writes glacier-export-manifest.shard-K-of-N.csv
and .jsonl and rebuilds the merged manifest from every shard's.

To s3://BUCKET/PREFIX: each archive streams from its job output into the object
PREFIX/NAME (no local copy; memory about threads x part size): each Glacier chunk is
checked against its tree hash before it is sent on, each part carries its SHA-256
checksum, and the object is completed only when the whole archive's tree hash equals
the inventory's (else the upload is aborted and the archive reported). Objects carry
the archive ID, tree hash, creation date and description as x-amz-meta-glacier-*
metadata; an object already there with the same archive ID and tree hash is skipped.
The journal and manifest are kept in --journal DIR (default
$XDG_DATA_HOME/glacier-upload/export/BUCKET/HASH, HASH of vault and prefix); the
manifest (and failed-archives file) is copied to PREFIX/.glacier-export/ at the end
of the run, where a shard rebuilds the merged manifest too.
";

const VAULT_EXPORT_END: &str = "\
Exit: 0 every archive in scope exported and verified; 1 failures (listed on
stderr); 3 with --no-wait while work remains.
";

const VAULT_PURGE: &str = "\
Deletes the archives of an inventory, -t at a time, and records each deletion (synced)
in a journal, so running the same command again after a crash or kill -9 sends nothing
for what is done. A 404 counts as already deleted; throttling slows the run down
(pauses and goes on) instead of failing it. Archives uploaded after the inventory's
date are not in it and are not deleted (the run says so). On a terminal without --yes
it shows the count and bytes and asks you to type the vault name; without a terminal
and without --yes it exits 2 and sends nothing. Summary on stdout (--json: deleted,
already_gone, skipped, failed, not_exported...). The inventory and selection options
are those of vault export. --delete-vault then deletes the vault; Glacier refuses until
its next inventory (about a day) shows it empty: without --wait the run says to run
'glacier vault delete VAULT' tomorrow, with --wait it checks hourly and deletes it then.
";

const VAULT_PURGE_END: &str = "\
Exit: 0 every archive in scope deleted or already gone; 1 some failed (listed on
stderr) or a wrong vault name was typed; 2 no terminal and no --yes (nothing sent).
";

const ARCHIVE_ABOUT: &str = "\
Retrieval takes two steps: init-retrieval starts a job and prints its ID (stdout;
--json for an object); when the job has finished (hours for Standard), get downloads
its output.
";

const ARCHIVE_INIT: &str = "\
Retrieval takes two steps: init-retrieval starts a job and prints its ID (stdout;
--json for an object); when the job has finished (hours for Standard), get downloads
its output.

--name PATH picks the archive by the name 'vault export' would give it, as 'inventory
get' shows it, resolved through an inventory saved with 'inventory get -o FILE'
(--inventory FILE). No archive of that name: exit 2, nothing sent.
";

const ARCHIVE_GET: &str = "\
Downloads into FILE.glacier-part, checks every chunk against the tree hash Glacier
sends and fetches a bad chunk again, checks the whole against the job's tree hash,
and only then renames it to FILE. Interrupted, it keeps verified chunks: run the same
command again to resume. FILE '-' writes to standard output, in order, each chunk
verified before it is written.
";

const ARCHIVE_DELETE: &str = "\
With one ARCHIVE_ID, deletes it (a missing archive is an error). With several, or '-'
to read them one per line from standard input, deletes -t N at a time: an archive
already gone (404) is counted, not an error; throttling pauses and goes on; the
summary goes to stderr (--json: an object on stdout with deleted, already_gone,
failed) and the exit code is 1 if any failed.
";

const IDS_WITH_DASH: &str = "\
ARCHIVE_ID and JOB_ID may begin with '-'; they are accepted as they are, or after '--'.
";

#[cfg(test)]
mod tests {
    use super::*;

    fn usage_error(argv: &[&str]) -> String {
        match super::super::parse(argv.iter().map(std::ffi::OsString::from).collect()) {
            Err(Error::Usage(m)) => m,
            other => panic!("{argv:?}: expected a usage error, got {other:?}"),
        }
    }

    /// Each thing the library's advice tells the user to do reads as the command that does
    /// it, word for word what the CLI printed before the library named actions; each is a
    /// command with a page, and one given with its arguments is a line the parser takes.
    #[test]
    fn every_library_action_is_a_command_the_parser_takes() {
        let commands: Vec<String> = error::every_action()
            .into_iter()
            .map(action_command)
            .collect();
        assert_eq!(
            commands,
            [
                "glacier jobs list v",
                "glacier jobs describe",
                "glacier archive get",
                "glacier inventory get",
                "glacier uploads list v",
                "glacier uploads abort v U",
                "glacier archive delete",
                "glacier vault export",
                "glacier vault delete --when-empty v",
            ]
        );
        for c in &commands {
            let words: Vec<&str> = c
                .strip_prefix("glacier ")
                .expect("a glacier command")
                .split(' ')
                .collect();
            assert!(has_action(&words[..2].join(" ")), "{c}: no such command");
            if words.len() > 2 {
                let argv = words.iter().map(std::ffi::OsString::from).collect();
                if let Err(e) = super::super::parse(argv) {
                    panic!("{c}: {e}");
                }
            }
        }
    }

    #[test]
    fn every_action_the_parser_knows_has_a_row_and_every_row_is_known() {
        for g in GROUPS {
            let m = usage_error(&[g.name]);
            let list = m
                .split("needs one of: ")
                .nth(1)
                .and_then(|s| s.split(" (").next())
                .expect("the parser lists the actions");
            let known: Vec<&str> = list.split(", ").collect();
            for a in &known {
                assert!(
                    has_action(&format!("{} {a}", g.name)),
                    "no page: {} {a}",
                    g.name
                );
            }
            for a in ACTIONS.iter().filter(|a| a.group().0 == g.name) {
                let word = a.group().1.expect("a group's action has a word");
                assert!(known.contains(&word), "'{}' is not parsed", a.words);
            }
        }
        // Every command word of the overview is a group or a one-word action.
        let overview = page(None).expect("overview");
        let commands = overview.split("Commands:\n").nth(1).expect("commands");
        for line in commands.split("\n\n").next().expect("list").lines() {
            let word = line.split_whitespace().next().expect("word");
            assert!(
                word == "help" || GROUPS.iter().any(|g| g.name == word) || has_action(word),
                "{word} has no page"
            );
        }
    }

    #[test]
    fn an_action_page_holds_its_own_flags_only() {
        for a in ACTIONS {
            let page = page(Some(a.words)).expect("page");
            assert_eq!(page, a.page());
            assert!(page.lines().all(|l| l.len() <= 88), "{}: too wide", a.words);
            for f in a.flags {
                assert!(page.contains(f.long), "{}: {}", a.words, f.long);
            }
            let others = ACTIONS.iter().filter(|o| o.group().0 != a.group().0);
            for f in others.flat_map(|o| o.flags.iter()) {
                if !a.flags.iter().any(|g| g.long == f.long) {
                    assert!(
                        !page.contains(&format!(" {} ", f.long)),
                        "{}: {}",
                        a.words,
                        f.long
                    );
                }
            }
        }
        assert!(
            page(Some("vault export photos dir"))
                .expect("page")
                .contains("--shard")
        );
        assert!(page(Some("nope")).is_err());
    }
}
