//! `glacier vault list | describe VAULT | create VAULT | delete [--when-empty] VAULT`
//! (`export`, `purge` and `plan` have files of their own).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::output::or_dash;
use super::scope::parse_duration;
use super::{Args, Global, Output, flags, note};
use crate::error::{Error, Result};
use crate::glacier::{VaultDescription, check_vault_name};
use crate::progress::human_bytes;
use crate::vault_delete::{self, Outcome};
use crate::workflow::Ctx;

/// A parsed `vault` command.
#[derive(Debug)]
pub enum VaultCmd {
    /// List every vault.
    List,
    /// Show one vault.
    Describe(String),
    /// Create a vault.
    Create(String),
    /// Delete an empty vault; with `--when-empty`, once Glacier's inventory allows it.
    Delete(String, Option<WhenEmpty>),
    /// What an export would cost and risk (`vault plan`, in `cli/plan.rs`).
    Plan(Box<super::plan::PlanCmd>),
    /// Export every archive (`vault export`, in `cli/export.rs`).
    Export(Box<super::export::ExportCmd>),
    /// Delete the archives of an inventory (`vault purge`, in `cli/purge.rs`).
    Purge(Box<super::purge::PurgeCmd>),
}

impl VaultCmd {
    pub(super) fn parse(mut args: Args) -> Result<VaultCmd> {
        let action = args.action(
            "vault",
            &[
                "list", "describe", "create", "delete", "export", "purge", "plan",
            ],
        )?;
        if action == "plan" {
            return Ok(VaultCmd::Plan(Box::new(super::plan::PlanCmd::parse(args)?)));
        }
        let when_empty = if action == "delete" {
            WhenEmpty::parse(&mut args)?
        } else {
            None
        };
        if action == "purge" {
            return Ok(VaultCmd::Purge(Box::new(super::purge::PurgeCmd::parse(
                args,
            )?)));
        }
        if action == "export" {
            return Ok(VaultCmd::Export(Box::new(super::export::ExportCmd::parse(
                args,
            )?)));
        }
        if action == "list" {
            args.exact("vault list", [])?;
            return Ok(VaultCmd::List);
        }
        let [vault] = args.exact(&format!("vault {action}"), ["VAULT"])?;
        check_vault_name(&vault)?;
        Ok(match action.as_str() {
            "describe" => VaultCmd::Describe(vault),
            "create" => VaultCmd::Create(vault),
            _ => VaultCmd::Delete(vault, when_empty),
        })
    }

    pub(super) fn run(self, global: &Global, out: &mut Output) -> Result<()> {
        if let VaultCmd::Export(c) = self {
            return c.run(global, out);
        }
        if let VaultCmd::Purge(c) = self {
            return c.run(global, out);
        }
        if let VaultCmd::Plan(c) = self {
            return c.run(global, out);
        }
        let client = global.client()?;
        match self {
            VaultCmd::List => {
                let vaults = client.list_vaults()?;
                if global.json {
                    return out.json_value(&vaults);
                }
                let rows: Vec<Vec<String>> = vaults.iter().map(row).collect();
                out.table(
                    &["VAULT", "ARCHIVES", "SIZE", "CREATED", "LAST INVENTORY"],
                    &rows,
                    "no vaults",
                )
            }
            VaultCmd::Describe(v) => {
                let d = client.describe_vault(&v)?;
                if global.json {
                    return out.json_value(&d);
                }
                let opt = |v: &Option<String>| or_dash(v.as_deref());
                out.line(&format!("vault:           {}", opt(&d.vault_name)))?;
                out.line(&format!("arn:             {}", opt(&d.vault_arn)))?;
                out.line(&format!("created:         {}", opt(&d.creation_date)))?;
                out.line(&format!(
                    "last inventory:  {}",
                    d.last_inventory_date.as_deref().unwrap_or("never")
                ))?;
                out.line(&format!(
                    "archives:        {}",
                    or_dash(d.number_of_archives)
                ))?;
                // Unknown (`-`) until Glacier's first inventory of the vault.
                out.line(&format!(
                    "size:            {}",
                    match d.size_in_bytes {
                        Some(n) => format!("{} ({n} bytes)", human_bytes(n)),
                        None => "-".into(),
                    }
                ))
            }
            VaultCmd::Create(v) => {
                let location = client.create_vault(&v)?;
                if global.json {
                    return out.json(&serde_json::json!({"vault": v, "location": location}));
                }
                // CreateVault succeeds for a vault that exists too ("Create Vault": the
                // operation is idempotent), so "created" could be untrue: say what is sure.
                note(global, &format!("vault '{v}' is ready"));
                Ok(())
            }
            VaultCmd::Export(c) => c.run(global, out),
            VaultCmd::Purge(c) => c.run(global, out),
            VaultCmd::Plan(c) => c.run(global, out),
            VaultCmd::Delete(v, Some(w)) => w.run(&client, &v, global, out),
            VaultCmd::Delete(v, None) => {
                client.delete_vault(&v)?;
                if global.json {
                    return out.json(&serde_json::json!({"vault": v, "deleted": true}));
                }
                note(global, &format!("deleted vault '{v}'"));
                Ok(())
            }
        }
    }
}

/// `vault delete --when-empty [--wait|--no-wait] [--poll DURATION]`.
#[derive(Debug)]
pub struct WhenEmpty {
    wait: bool,
    poll: Duration,
}

/// `--poll` of `vault delete --wait` without the flag: Glacier inventories about daily,
/// so looking more often than hourly only spends requests.
const DEFAULT_DELETE_POLL: Duration = Duration::from_secs(3600);

impl WhenEmpty {
    fn parse(args: &mut Args) -> Result<Option<WhenEmpty>> {
        let when_empty = args.switch(&flags::WHEN_EMPTY);
        let wait = args.switch(&flags::WAIT_EMPTY);
        let no_wait = args.switch(&flags::NO_WAIT_EMPTY);
        let poll = args.parsed(&flags::POLL_EMPTY, parse_duration)?;
        if !when_empty {
            if let Some(f) = [
                ("--wait", wait),
                ("--no-wait", no_wait),
                ("--poll", poll.is_some()),
            ]
            .iter()
            .find(|(_, set)| *set)
            {
                return Err(Error::Usage(format!(
                    "{} is for 'vault delete --when-empty'",
                    f.0
                )));
            }
            return Ok(None);
        }
        if wait && no_wait {
            return Err(Error::Usage("give --wait or --no-wait, not both".into()));
        }
        Ok(Some(WhenEmpty {
            wait,
            poll: poll.unwrap_or(DEFAULT_DELETE_POLL),
        }))
    }

    fn run(
        &self,
        client: &crate::glacier::Client,
        vault: &str,
        global: &Global,
        out: &mut Output,
    ) -> Result<()> {
        let stop = Arc::new(AtomicBool::new(false));
        let display = Arc::new(global.display());
        if self.wait {
            // The pause between looks ends at once; a look under way (DescribeVault, then
            // perhaps DeleteVault) is not cut short.
            super::stop_on_signal(
                &stop,
                &display,
                "the wait ends now, and the vault is not looked at again",
            )?;
        }
        let ctx = Ctx {
            glacier: client,
            data_dir: None,
            stop: &stop,
        };
        // Test hook, as for export: the integration tests poll every few ms.
        let poll = super::knobs::poll_override().unwrap_or(self.poll);
        let opts = vault_delete::Options {
            vault,
            wait: self.wait,
            poll,
            deleted_before: None,
            now: &time::OffsetDateTime::now_utc,
        };
        let outcome = vault_delete::run(&ctx, &opts, display.as_ref());
        display.finish();
        match outcome? {
            Outcome::Deleted => {
                if global.json {
                    return out.json(&serde_json::json!({"vault": vault, "deleted": true}));
                }
                note(global, &format!("deleted vault '{vault}'"));
                Ok(())
            }
            Outcome::NotYet { why, retry_after } => {
                let after = retry_after.map(vault_delete::rfc3339);
                if global.json {
                    out.json(&serde_json::json!({
                        "vault": vault,
                        "deleted": false,
                        "reason": why,
                        "retry_after": after,
                    }))?;
                }
                let when = match after {
                    Some(t) => format!("try again after {t} (Glacier inventories about daily)"),
                    None => "try again in a day (Glacier inventories about daily)".into(),
                };
                Err(Error::JobInProgress(format!("not yet: {why}; {when}")))
            }
        }
    }
}

/// One table row; what Glacier left out (the counts before the first inventory) is
/// `-`, never 0.
fn row(d: &VaultDescription) -> Vec<String> {
    vec![
        or_dash(d.vault_name.as_deref()),
        or_dash(d.number_of_archives),
        or_dash(d.size_in_bytes.map(human_bytes)),
        or_dash(d.creation_date.as_deref()),
        d.last_inventory_date
            .clone()
            .unwrap_or_else(|| "never".into()),
    ]
}
