//! `glacier inventory init-retrieval [OPTIONS] VAULT`,
//! `glacier inventory get [OPTIONS] VAULT JOB_ID`

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use time::format_description::well_known::Rfc3339;

use super::retrieval::{JobStart, start_job};
use super::{Args, Global, Output, flags, note};
use crate::download::check_target;
use crate::error::{Error, Result};
use crate::glacier::{Description, InventoryParameters, JobId, JobRequest, check_vault_name};
use crate::inventory::{self, Format, Render};
use crate::progress::human_bytes;
use crate::retrieval::{self, inventory::Destination};
use crate::workflow::Ctx;

/// A parsed `inventory` command.
#[derive(Debug)]
pub enum InventoryCmd {
    /// Start an inventory retrieval job.
    InitRetrieval {
        /// The vault.
        vault: String,
        /// The InitiateJob body.
        request: Box<JobRequest>,
        /// Wait for the job to finish before printing its ID.
        wait: bool,
    },
    /// Print or save an inventory job's output.
    Get {
        /// The vault.
        vault: String,
        /// The job.
        job_id: JobId,
        /// Wait for the job first.
        wait: bool,
        /// Save the raw output here instead of printing it.
        output: Option<PathBuf>,
        /// How to print it.
        render: Render,
        /// Replace an existing output file.
        force: bool,
    },
}

/// Accepts `YYYY-MM-DD` or an RFC 3339 time and returns what Glacier wants (ISO 8601 in
/// UTC, e.g. `2026-01-31T00:00:00Z`); the error completes `--flag 'value'`.
pub fn parse_date(s: &str) -> std::result::Result<String, String> {
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        let t = t.to_offset(time::UtcOffset::UTC);
        return Ok(format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ));
    }
    let parts: Vec<&str> = s.split('-').collect();
    if let [y, m, d] = parts[..] {
        if let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>()) {
            let month = time::Month::try_from(m).ok();
            if let Some(date) = month.and_then(|m| time::Date::from_calendar_date(y, m, d).ok()) {
                return Ok(format!(
                    "{:04}-{:02}-{:02}T00:00:00Z",
                    date.year(),
                    u8::from(date.month()),
                    date.day()
                ));
            }
        }
    }
    Err("use a date like 2026-01-31 or a time like 2026-01-31T12:00:00Z".into())
}

impl InventoryCmd {
    pub(super) fn parse(mut args: Args) -> Result<InventoryCmd> {
        let action = args.action("inventory", &["init-retrieval", "get"])?;
        if action == "init-retrieval" {
            let format = args.parsed(&flags::JOB_FORMAT, |f| {
                match f.to_ascii_uppercase().as_str() {
                    "JSON" | "CSV" => Ok(f.to_ascii_uppercase()),
                    _ => Err("use JSON or CSV".to_string()),
                }
            })?;
            let start_date = args.parsed(&flags::START_DATE, parse_date)?;
            let end_date = args.parsed(&flags::END_DATE, parse_date)?;
            if let (Some(a), Some(b)) = (&start_date, &end_date) {
                if a >= b {
                    return Err(Error::Usage(format!(
                        "--start-date {a} is not before --end-date {b}"
                    )));
                }
            }
            let limit = args.whole::<u64>(&flags::LIMIT)?;
            if limit == Some(0) {
                return Err(Error::Usage("--limit must be at least 1".into()));
            }
            // The Marker of a previous partial inventory job ("Initiate Job",
            // InventoryRetrievalParameters): opaque, passed on as given.
            let marker = args.text(&flags::MARKER)?;
            if marker.as_deref() == Some("") {
                return Err(Error::Usage("--marker must not be empty".into()));
            }
            let description = args.description(&flags::JOB_DESCRIPTION)?;
            let wait = args.switch(&flags::WAIT_START);
            let [vault] = args.exact("inventory init-retrieval", ["VAULT"])?;
            check_vault_name(&vault)?;
            let params =
                (start_date.is_some() || end_date.is_some() || limit.is_some() || marker.is_some())
                    .then(|| InventoryParameters {
                        start_date,
                        end_date,
                        limit: limit.map(|l| l.to_string()),
                        marker,
                    });
            return Ok(InventoryCmd::InitRetrieval {
                vault,
                request: Box::new(JobRequest {
                    kind: "inventory-retrieval".into(),
                    description: description.map(Description::into_string),
                    format,
                    inventory_retrieval_parameters: params,
                    ..Default::default()
                }),
                wait,
            });
        }
        let wait = args.switch(&flags::WAIT_GET);
        let output = args.path(&flags::OUTPUT)?;
        let render = args.parsed(&flags::RENDER, |f| {
            f.parse::<Render>()
                .map_err(|_| "use table, json, jsonl or csv".to_string())
        })?;
        let force = args.switch(&flags::FORCE);
        if output.is_some() && render.is_some() {
            return Err(Error::Usage(
                "--output saves the inventory as Glacier sent it; --format only applies when printing"
                    .into(),
            ));
        }
        let [vault, job] = args.exact("inventory get", ["VAULT", "JOB_ID"])?;
        check_vault_name(&vault)?;
        if let Some(o) = &output {
            check_target(o, force)?;
        }
        Ok(InventoryCmd::Get {
            vault,
            job_id: JobId::new(job)?,
            wait,
            output,
            render: render.unwrap_or(Render::Table),
            force,
        })
    }

    pub(super) fn run(self, global: &Global, out: &mut Output) -> Result<()> {
        let client = global.client()?;
        match self {
            InventoryCmd::InitRetrieval {
                vault,
                request,
                wait,
            } => {
                let what = format!("inventory of vault '{vault}'");
                let job = JobStart {
                    request: &request,
                    action: "InventoryRetrieval",
                    what: &what,
                    wait,
                };
                start_job(&client, global, out, &vault, &job)
            }
            InventoryCmd::Get {
                vault,
                job_id,
                wait,
                output,
                render,
                force,
            } => {
                let opts = retrieval::inventory::Options {
                    vault,
                    job_id,
                    wait,
                    pace: super::retrieval::pace(),
                };
                let to = Sink {
                    output,
                    render,
                    force,
                };
                get(&client, global, out, &opts, &to)
            }
        }
    }
}

/// Where `inventory get` puts the inventory: `--output FILE` (replaced with `--force`),
/// else stdout rendered as `--format` says.
struct Sink {
    output: Option<PathBuf>,
    render: Render,
    force: bool,
}

/// `inventory get`: the library's [`retrieval::inventory::get`] into FILE or stdout,
/// then what it saw.
fn get(
    client: &crate::glacier::Client,
    global: &Global,
    out: &mut Output,
    opts: &retrieval::inventory::Options,
    sink: &Sink,
) -> Result<()> {
    let Sink {
        output,
        render,
        force,
    } = sink;
    let (render, force) = (*render, *force);
    // No signal handler: Ctrl-C ends the process (nothing is left half-done that a
    // rerun would not redo).
    let stop = Arc::new(AtomicBool::new(false));
    let ctx = Ctx {
        glacier: client,
        data_dir: None,
        stop: &stop,
    };
    let display = global.display();
    let result = match &output {
        Some(path) => {
            let to = Destination::File {
                path: path.clone(),
                force,
            };
            retrieval::inventory::get(&ctx, opts, to, &display)
        }
        None => {
            out.flush()?;
            let mut stdout = std::io::stdout().lock();
            let to = Destination::Print {
                render,
                out: &mut stdout,
            };
            retrieval::inventory::get(&ctx, opts, to, &display)
        }
    };
    display.finish();
    let r = super::retrieval::or_add_wait(result)?;
    // A Limit cut the list short: say so, and how to go on, whatever the output (a
    // partial inventory must never look whole).
    if let Some(m) = &r.marker {
        eprintln!(
            "glacier: partial inventory (limit reached): continue with 'glacier inventory init-retrieval --marker {m} {}'",
            opts.vault
        );
    }
    if let (Some(size), Some(path)) = (r.saved, output) {
        note(
            global,
            &format!(
                "saved the inventory ({}) to {}",
                human_bytes(size),
                path.display()
            ),
        );
    }
    if let Some((summary, format)) = &r.printed {
        report(global, summary, *format, render);
    }
    Ok(())
}

/// The notes after an inventory is printed: entries left out, and the count where the
/// output has no summary line of its own.
fn report(global: &Global, summary: &inventory::Summary, format: Format, render: Render) {
    if summary.unusable > 0 {
        note(
            global,
            &format!(
                "{} inventory entries lack an archive ID, size or tree hash{}",
                summary.unusable,
                if (format, render) == (Format::Json, Render::Json) {
                    " (kept as Glacier sent them)"
                } else {
                    "; left out"
                }
            ),
        );
    }
    if render != Render::Table {
        note(
            global,
            &format!(
                "{} archives, {}",
                summary.archives,
                human_bytes(summary.total_bytes)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2026-01-31").expect("ok"),
            "2026-01-31T00:00:00Z"
        );
        assert_eq!(
            parse_date("2026-01-31T12:00:00+02:00").expect("ok"),
            "2026-01-31T10:00:00Z"
        );
        assert!(parse_date("2026-02-30").is_err());
        assert!(
            parse_date("yesterday")
                .expect_err("bad")
                .starts_with("use a date like")
        );
    }
}
