//! `glacier jobs list VAULT [--completed true|false] [--status S]`,
//! `glacier jobs describe VAULT JOB_ID`

use super::{Args, Global, Output};
use crate::error::{Error, Result};
use crate::glacier::{JobDescription, JobId, check_vault_name};
use crate::progress::human_bytes;

/// A parsed `jobs` command.
#[derive(Debug)]
pub enum JobsCmd {
    /// List a vault's jobs.
    List {
        /// The vault.
        vault: String,
        /// Only completed (or only not completed) jobs.
        completed: Option<bool>,
        /// Only jobs with this status code.
        status: Option<String>,
    },
    /// Show one job.
    Describe {
        /// The vault.
        vault: String,
        /// The job.
        job_id: JobId,
    },
}

impl JobsCmd {
    pub(super) fn parse(mut args: Args) -> Result<JobsCmd> {
        let action = args.action("jobs", &["list", "describe"])?;
        if action == "list" {
            let completed = match args.value::<String>(&["--completed"])?.as_deref() {
                None => None,
                Some("true") => Some(true),
                Some("false") => Some(false),
                Some(other) => {
                    return Err(Error::Usage(format!(
                        "--completed '{other}': use true or false"
                    )));
                }
            };
            let status = args.value::<String>(&["--status"])?;
            if let Some(s) = &status {
                if !["InProgress", "Succeeded", "Failed"].contains(&s.as_str()) {
                    return Err(Error::Usage(format!(
                        "--status '{s}': use InProgress, Succeeded or Failed"
                    )));
                }
            }
            let [vault] = args.exact("jobs list", ["VAULT"])?;
            check_vault_name(&vault)?;
            return Ok(JobsCmd::List {
                vault,
                completed,
                status,
            });
        }
        let [vault, job] = args.exact("jobs describe", ["VAULT", "JOB_ID"])?;
        check_vault_name(&vault)?;
        Ok(JobsCmd::Describe {
            vault,
            job_id: JobId::new(job)?,
        })
    }

    pub(super) fn run(self, global: &Global, out: &mut Output) -> Result<()> {
        let client = global.client()?;
        match self {
            JobsCmd::List {
                vault,
                completed,
                status,
            } => {
                let jobs = client.list_jobs(&vault, completed, status.as_deref())?;
                if global.json {
                    return out.json_value(&jobs);
                }
                let rows: Vec<Vec<String>> = jobs
                    .iter()
                    .map(|j| {
                        vec![
                            j.job_id.clone(),
                            j.action.clone(),
                            j.status_code.clone(),
                            j.creation_date.clone(),
                            size_of(j),
                        ]
                    })
                    .collect();
                out.table(
                    &["JOB ID", "ACTION", "STATUS", "CREATED", "SIZE"],
                    &rows,
                    &format!("no jobs in vault '{vault}'"),
                )
            }
            JobsCmd::Describe { vault, job_id } => {
                let j = client.describe_job(&vault, &job_id)?;
                if global.json {
                    return out.json_value(&j);
                }
                describe(out, &j)
            }
        }
    }
}

fn size_of(j: &JobDescription) -> String {
    j.archive_size_in_bytes
        .or(j.inventory_size_in_bytes)
        .map(human_bytes)
        .unwrap_or_default()
}

/// Prints a job's fields, one `name: value` per line; shared with the retrieval commands.
pub(super) fn describe(out: &mut Output, j: &JobDescription) -> Result<()> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let lines = [
        ("job id", j.job_id.clone()),
        ("action", j.action.clone()),
        ("status", j.status_code.clone()),
        ("status message", opt(&j.status_message)),
        ("created", j.creation_date.clone()),
        ("completed", opt(&j.completion_date)),
        ("archive id", opt(&j.archive_id)),
        ("size", size_of(j)),
        ("range", opt(&j.retrieval_byte_range)),
        ("tier", opt(&j.tier)),
        ("tree hash", opt(&j.sha256_tree_hash)),
        ("description", opt(&j.job_description)),
    ];
    for (k, v) in lines {
        out.line(&format!("{:<16}{v}", format!("{k}:")))?;
    }
    Ok(())
}
