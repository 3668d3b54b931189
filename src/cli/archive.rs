//! `glacier archive init-retrieval | get | delete`

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::retrieval::{JobStart, start_job};
use super::{Args, Global, Output, flags, note};
use crate::download::{self, DEFAULT_CHUNK_SIZE};
use crate::error::{Error, Result};
use crate::glacier::{ArchiveId, Description, JobId, JobRequest, check_vault_name};
use crate::progress::{Display, Reporter, human_bytes};
use crate::retrieval::{self, archive::Destination};
use crate::treehash::is_valid_part_size;
use crate::workflow::Ctx;

/// `archive get --threads` without the flag (shown by its help, checked in `flags`).
pub(super) const DEFAULT_THREADS: usize = 4;
/// `archive delete --threads` without the flag (several IDs or `-`).
pub(super) const DEFAULT_DELETE_THREADS: usize = 4;

/// A parsed `archive` command.
#[derive(Debug)]
pub enum ArchiveCmd {
    /// Start an archive retrieval job.
    InitRetrieval {
        /// The vault.
        vault: String,
        /// The archive: its ID, or its export name in an inventory file.
        target: Target,
        /// The InitiateJob body (its `ArchiveId` filled in once `target` is resolved).
        request: Box<JobRequest>,
        /// Wait for the job to finish before printing its ID.
        wait: bool,
    },
    /// Download a retrieval job's output.
    Get {
        /// The vault.
        vault: String,
        /// The job.
        job_id: JobId,
        /// Where to: a path, or `-` for stdout.
        file: String,
        /// Wait for the job first.
        wait: bool,
        /// Download options.
        threads: usize,
        /// Chunk size in bytes.
        chunk_size: u64,
        /// Replace an existing file.
        force: bool,
    },
    /// Delete an archive.
    Delete(String, ArchiveId),
    /// Delete several archives: IDs given, or `-` for one per line on stdin.
    DeleteMany {
        /// The vault.
        vault: String,
        /// The IDs, or `None` to read them from stdin.
        ids: Option<Vec<ArchiveId>>,
        /// Deletions in flight.
        threads: usize,
    },
}

/// Which archive `archive init-retrieval` retrieves.
#[derive(Debug)]
pub enum Target {
    /// `ARCHIVE_ID`.
    Id(ArchiveId),
    /// `--name PATH --inventory FILE`: the archive `vault export` would name PATH.
    Name {
        /// The export name.
        path: String,
        /// The downloaded inventory.
        inventory: PathBuf,
    },
}

/// The archive in `inventory` that `vault export` would name `path` (the library's
/// [`retrieval::archive::by_name`]); no such archive is bad input (exit 2), found before
/// anything is sent.
fn resolve_name(path: &str, inventory: &std::path::Path) -> Result<ArchiveId> {
    retrieval::archive::by_name(path, inventory)?.ok_or_else(|| {
        Error::Input(format!(
            "--name '{path}': no archive has that export name in {} (see 'glacier inventory get')",
            inventory.display()
        ))
    })
}

/// Parses `START-END` (inclusive bytes) and checks the MiB rules Glacier sets for a
/// retrieval range (API Reference, "Initiate Job": RetrievalByteRange): START a multiple
/// of 1 MiB, END + 1 a multiple of 1 MiB or the archive's end (which only Glacier knows).
pub fn parse_retrieval_range(s: &str) -> Result<(u64, u64)> {
    let bad = |why: &str| Error::Usage(format!("--range '{s}': {why}"));
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| bad("use START-END, in bytes"))?;
    let a: u64 = a
        .trim()
        .parse()
        .map_err(|_| bad("START is not a number of bytes"))?;
    let b: u64 = b
        .trim()
        .parse()
        .map_err(|_| bad("END is not a number of bytes"))?;
    if b < a {
        return Err(bad("END is before START"));
    }
    if a % (1 << 20) != 0 {
        return Err(bad("START must be a multiple of 1 MiB (1048576)"));
    }
    Ok((a, b))
}

impl ArchiveCmd {
    pub(super) fn parse(mut args: Args) -> Result<ArchiveCmd> {
        let action = args.action("archive", &["init-retrieval", "get", "delete"])?;
        match action.as_str() {
            "init-retrieval" => {
                let tier = args.choice(&flags::RETRIEVAL_TIER)?.map(String::from);
                // Glacier gets the numbers that were checked, written canonically: the
                // parser tolerates spaces, '+' and leading zeros that Glacier may not.
                let range = args
                    .text(&flags::RANGE)?
                    .map(|r| parse_retrieval_range(&r).map(|(a, b)| format!("{a}-{b}")))
                    .transpose()?;
                let description = args.description(&flags::JOB_DESCRIPTION)?;
                let sns_topic = args.text(&flags::SNS_TOPIC)?;
                let wait = args.switch(&flags::WAIT_START);
                let name = args.text(&flags::ARCHIVE_NAME)?;
                let inventory = args.path(&flags::NAME_INVENTORY)?;
                let (vault, target) = match (name, inventory) {
                    (Some(path), Some(inventory)) => {
                        let [vault] =
                            args.exact("archive init-retrieval --name PATH", ["VAULT"])?;
                        (vault, Target::Name { path, inventory })
                    }
                    (Some(_), None) => {
                        return Err(Error::Usage(
                            "--name needs --inventory FILE (saved by 'glacier inventory get -o FILE')"
                                .into(),
                        ));
                    }
                    (None, Some(_)) => {
                        return Err(Error::Usage("--inventory is only used with --name".into()));
                    }
                    (None, None) => {
                        let [vault, id] =
                            args.exact("archive init-retrieval", ["VAULT", "ARCHIVE_ID"])?;
                        (vault, Target::Id(ArchiveId::new(id)?))
                    }
                };
                check_vault_name(&vault)?;
                Ok(ArchiveCmd::InitRetrieval {
                    request: Box::new(JobRequest {
                        kind: "archive-retrieval".into(),
                        description: description.map(Description::into_string),
                        sns_topic,
                        tier,
                        retrieval_byte_range: range,
                        ..Default::default()
                    }),
                    vault,
                    target,
                    wait,
                })
            }
            "get" => {
                let wait = args.switch(&flags::WAIT_GET);
                let threads = args
                    .whole::<usize>(&flags::GET_THREADS)?
                    .unwrap_or(DEFAULT_THREADS);
                if threads == 0 || threads > 64 {
                    return Err(Error::Usage(format!("--threads {threads}: use 1 to 64")));
                }
                let chunk_mib = args.whole::<u64>(&flags::CHUNK_SIZE)?;
                let chunk_size = match chunk_mib {
                    None => DEFAULT_CHUNK_SIZE,
                    Some(m) if is_valid_part_size(m.saturating_mul(1 << 20)) && m <= 1024 => {
                        m << 20
                    }
                    Some(m) => {
                        return Err(Error::Usage(format!(
                            "--chunk-size {m}: must be a power of two from 1 to 1024 (MiB)"
                        )));
                    }
                };
                let force = args.switch(&flags::FORCE);
                let [vault, job, file] = args.exact("archive get", ["VAULT", "JOB_ID", "FILE"])?;
                check_vault_name(&vault)?;
                if file != "-" {
                    download::check_target(std::path::Path::new(&file), force)?;
                }
                Ok(ArchiveCmd::Get {
                    vault,
                    job_id: JobId::new(job)?,
                    file,
                    wait,
                    threads,
                    chunk_size,
                    force,
                })
            }
            _ => {
                let threads: usize = args
                    .whole(&flags::DELETE_THREADS)?
                    .unwrap_or(DEFAULT_DELETE_THREADS);
                if threads == 0 || threads > 64 {
                    return Err(Error::Usage(format!("--threads {threads}: use 1 to 64")));
                }
                let mut got = args.positionals()?.into_iter();
                let usage = "(usage: glacier archive delete VAULT ARCHIVE_ID... | -)";
                let vault = got.next().ok_or_else(|| {
                    Error::Usage(format!("archive delete: missing VAULT {usage}"))
                })?;
                check_vault_name(&vault)?;
                let rest: Vec<String> = got.collect();
                match rest.as_slice() {
                    [] => Err(Error::Usage(format!(
                        "archive delete: missing ARCHIVE_ID {usage}"
                    ))),
                    [one] if one != "-" => Ok(ArchiveCmd::Delete(vault, ArchiveId::new(one)?)),
                    [dash] if dash == "-" => Ok(ArchiveCmd::DeleteMany {
                        vault,
                        ids: None,
                        threads,
                    }),
                    many => {
                        if many.iter().any(|a| a == "-") {
                            return Err(Error::Usage(format!(
                                "archive delete: '-' (IDs from stdin) cannot be mixed with IDs {usage}"
                            )));
                        }
                        // Every ID checked before the first deletion.
                        let ids = many
                            .iter()
                            .map(|i| ArchiveId::new(i.clone()))
                            .collect::<Result<Vec<_>>>()?;
                        Ok(ArchiveCmd::DeleteMany {
                            vault,
                            ids: Some(ids),
                            threads,
                        })
                    }
                }
            }
        }
    }

    pub(super) fn run(self, global: &Global, out: &mut Output) -> Result<()> {
        let client = global.client()?;
        match self {
            ArchiveCmd::InitRetrieval {
                vault,
                target,
                mut request,
                wait,
            } => {
                let archive_id = match target {
                    Target::Id(id) => id,
                    Target::Name { path, inventory } => {
                        let id = resolve_name(&path, &inventory)?;
                        note(global, &format!("'{path}' is archive {id}"));
                        id
                    }
                };
                request.archive_id = Some(archive_id.to_string());
                let what = format!("retrieval of archive {archive_id}");
                let job = JobStart {
                    request: &request,
                    action: "ArchiveRetrieval",
                    what: &what,
                    wait,
                };
                start_job(&client, global, out, &vault, &job)
            }
            ArchiveCmd::Get {
                vault,
                job_id,
                file,
                wait,
                threads,
                chunk_size,
                force,
            } => {
                let opts = retrieval::archive::Options {
                    vault,
                    job_id,
                    wait,
                    pace: super::retrieval::pace(),
                    threads,
                    chunk_size,
                    force,
                };
                get(&client, global, out, &opts, &file)
            }
            ArchiveCmd::Delete(vault, id) => {
                client.delete_archive(&vault, &id)?;
                if global.json {
                    return out
                        .json(&serde_json::json!({"archive_id": id.as_str(), "deleted": true}));
                }
                note(
                    global,
                    &format!("deleted archive {id} from vault '{vault}'"),
                );
                Ok(())
            }
            ArchiveCmd::DeleteMany {
                vault,
                ids,
                threads,
            } => delete_many(&client, global, out, &vault, ids, threads),
        }
    }
}

/// `archive get`: the library's [`retrieval::archive::get`] into FILE or stdout, then
/// what was written and checked.
fn get(
    client: &crate::glacier::Client,
    global: &Global,
    out: &mut Output,
    opts: &retrieval::archive::Options,
    file: &str,
) -> Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let display: Arc<Display> = Arc::new(global.display());
    // A wait for the job (or a pause before a retry) ends at once; a download lets its
    // chunks in flight finish. Into a file each one is verified and logged, and the same
    // command resumes from them; to stdout one chunk at a time is verified and written.
    let wait = if opts.wait {
        "the wait for the job ends at once; "
    } else {
        ""
    };
    let chunks = if file == "-" {
        "no new chunk starts; the chunk in flight is verified and written out first"
    } else {
        "no new chunk starts; chunks in flight finish, and every verified chunk is kept for the same command to resume from"
    };
    super::stop_on_signal(
        &stop,
        &display,
        format!("{wait}{chunks} (interrupt again to quit at once)"),
    )?;
    let ctx = Ctx {
        glacier: client,
        data_dir: None,
        stop: &stop,
    };
    let reporter = Arc::clone(&display) as Arc<dyn Reporter>;
    let result = if file == "-" {
        out.flush()?;
        let mut stdout = std::io::stdout().lock();
        let to = Destination::Stream(&mut stdout);
        retrieval::archive::get(&ctx, opts, to, &reporter)
    } else {
        let to = Destination::File(PathBuf::from(file));
        retrieval::archive::get(&ctx, opts, to, &reporter)
    };
    display.finish();
    let o = super::retrieval::or_add_wait(result)?;
    let verdict = if o.verified_whole {
        "matches Glacier's"
    } else {
        "computed locally: Glacier gives no tree hash for a range that is not tree-hash aligned"
    };
    if file == "-" {
        // Whoever reads stdout cannot see a tree hash: say what was checked.
        note(
            global,
            &format!(
                "wrote {} ({} bytes) to stdout; {}: tree hash {} {verdict}",
                human_bytes(o.size),
                o.size,
                if o.verified_whole {
                    "the whole output is verified"
                } else {
                    "the whole output is NOT verified against Glacier"
                },
                o.tree_hash
            ),
        );
        return Ok(());
    }
    note(
        global,
        &format!(
            "wrote {} ({} bytes) to {file}; tree hash {} {verdict}",
            human_bytes(o.size),
            o.size,
            o.tree_hash
        ),
    );
    if global.json {
        return out.json(&serde_json::json!({
            "file": file, "size": o.size, "tree_hash": o.tree_hash.to_hex(),
            "verified": o.verified_whole, "job_id": opts.job_id.as_str(),
        }));
    }
    Ok(())
}

/// `archive delete VAULT ID... | -`: purge's deletion rules (404 is already gone,
/// throttling pauses instead of failing) on a list of IDs, in the library's
/// [`crate::purge::delete_ids`].
fn delete_many(
    client: &crate::glacier::Client,
    global: &Global,
    out: &mut Output,
    vault: &str,
    ids: Option<Vec<ArchiveId>>,
    threads: usize,
) -> Result<()> {
    use std::io::BufRead;
    let stop = Arc::new(AtomicBool::new(false));
    let display = Arc::new(global.display());
    super::stop_on_signal(
        &stop,
        &display,
        "no new deletion starts; requests in flight finish (interrupt again to quit at once)",
    )?;
    let ctx = Ctx {
        glacier: client,
        data_dir: None,
        stop: &stop,
    };
    let opts = crate::purge::DeleteIds {
        vault: vault.to_string(),
        threads,
        backoff: super::retrieval::backoff(),
    };
    let result = match ids {
        Some(ids) => {
            let ids = ids.into_iter().map(|i| Ok(i.as_str().to_string()));
            crate::purge::delete_ids(&ctx, &opts, ids, display.as_ref())
        }
        None => {
            let stdin = std::io::stdin().lock();
            let lines = stdin.lines().filter_map(|l| match l {
                Ok(l) if l.trim().is_empty() => None,
                Ok(l) => Some(Ok(l.trim().to_string())),
                Err(e) => Some(Err(Error::io("-", e))),
            });
            crate::purge::delete_ids(&ctx, &opts, lines, display.as_ref())
        }
    };
    display.finish();
    let tally = result?;
    for (id, why) in &tally.failed {
        eprintln!("glacier: archive {id} not deleted: {why}");
    }
    if global.json {
        let failed: Vec<serde_json::Value> = tally
            .failed
            .iter()
            .map(|(id, why)| serde_json::json!({"archive_id": id, "error": why}))
            .collect();
        out.json(&serde_json::json!({
            "vault": vault,
            "deleted": tally.deleted,
            "already_gone": tally.already_gone,
            "failed": failed,
        }))?;
    } else {
        note(
            global,
            &format!(
                "deleted {} archives from vault '{vault}'; {} already gone, {} failed",
                tally.deleted,
                tally.already_gone,
                tally.failed.len()
            ),
        );
    }
    if tally.stopped {
        return Err(Error::Interrupted(format!(
            "archive delete on vault '{vault}' stopped; archives not yet deleted are still there"
        )));
    }
    if !tally.failed.is_empty() {
        return Err(Error::Reported);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retrieval_ranges() {
        assert_eq!(
            parse_retrieval_range("0-1048575").expect("ok"),
            (0, 1_048_575)
        );
        assert_eq!(
            parse_retrieval_range("1048576-5000000").expect("ok"),
            (1_048_576, 5_000_000)
        );
        assert!(parse_retrieval_range("5-10").is_err());
        assert!(parse_retrieval_range("10-5").is_err());
        assert!(parse_retrieval_range("a-b").is_err());
        assert!(parse_retrieval_range("100").is_err());
    }
}
