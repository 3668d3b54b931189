//! `glacier jobs list VAULT [--completed true|false] [--status S]`,
//! `glacier jobs describe VAULT JOB_ID`

use super::output::or_dash;
use super::{Args, Global, Output, flags};
use crate::error::Result;
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
            let completed = args.choice(&flags::COMPLETED)?.map(|c| c == "true");
            let status = args.choice(&flags::STATUS)?.map(String::from);
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
                            or_dash(j.job_id.as_deref()),
                            or_dash(j.action.as_deref()),
                            or_dash(j.status_code.as_deref()),
                            or_dash(j.creation_date.as_deref()),
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
    or_dash(
        j.archive_size_in_bytes
            .or(j.inventory_size_in_bytes)
            .map(human_bytes),
    )
}

/// Prints a job's fields, one `name: value` per line (`-` for what Glacier left out);
/// shared with the retrieval commands. An inventory cut short by a `Limit` shows the
/// marker to continue from and says the list is partial.
pub(super) fn describe(out: &mut Output, j: &JobDescription) -> Result<()> {
    let opt = |v: &Option<String>| or_dash(v.as_deref());
    let mut lines = vec![
        ("job id", opt(&j.job_id)),
        ("action", opt(&j.action)),
        ("status", opt(&j.status_code)),
        ("status message", opt(&j.status_message)),
        ("created", opt(&j.creation_date)),
        ("completed", opt(&j.completion_date)),
        ("archive id", opt(&j.archive_id)),
        ("size", size_of(j)),
        ("range", opt(&j.retrieval_byte_range)),
        ("tier", opt(&j.tier)),
        ("tree hash", opt(&j.sha256_tree_hash)),
        ("description", opt(&j.job_description)),
    ];
    if let Some(p) = &j.inventory_retrieval_parameters {
        lines.push(("format", opt(&p.format)));
        lines.push(("start date", opt(&p.start_date)));
        lines.push(("end date", opt(&p.end_date)));
        lines.push(("limit", opt(&p.limit)));
        lines.push(("marker", opt(&p.marker)));
    }
    if let Some(m) = j.inventory_marker() {
        // The vault's name is the last part of its ARN (`...:vaults/NAME`).
        let vault = j
            .vault_arn
            .as_deref()
            .and_then(|a| a.rsplit_once("vaults/"))
            .map_or("VAULT", |(_, v)| v);
        lines.push((
            "inventory",
            format!(
                "partial: continue with 'glacier inventory init-retrieval --marker {m} {vault}'"
            ),
        ));
    }
    for (k, v) in lines {
        out.line(&format!("{:<16}{v}", format!("{k}:")))?;
    }
    Ok(())
}
