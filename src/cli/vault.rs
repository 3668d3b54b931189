//! `glacier vault list | describe VAULT | create VAULT | delete VAULT`

use super::output::or_dash;
use super::{Args, Global, Output, note};
use crate::error::Result;
use crate::glacier::{VaultDescription, check_vault_name};
use crate::progress::human_bytes;

/// A parsed `vault` command.
#[derive(Debug)]
pub enum VaultCmd {
    /// List every vault.
    List,
    /// Show one vault.
    Describe(String),
    /// Create a vault.
    Create(String),
    /// Delete an empty vault.
    Delete(String),
    /// Export every archive (`vault export`, in `cli/export.rs`).
    Export(Box<super::export::ExportCmd>),
    /// Delete the archives of an inventory (`vault purge`, in `cli/purge.rs`).
    Purge(Box<super::purge::PurgeCmd>),
}

impl VaultCmd {
    pub(super) fn parse(mut args: Args) -> Result<VaultCmd> {
        let action = args.action(
            "vault",
            &["list", "describe", "create", "delete", "export", "purge"],
        )?;
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
            _ => VaultCmd::Delete(vault),
        })
    }

    pub(super) fn run(self, global: &Global, out: &mut Output) -> Result<()> {
        if let VaultCmd::Export(c) = self {
            return c.run(global, out);
        }
        if let VaultCmd::Purge(c) = self {
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
                note(global, &format!("created vault '{v}'"));
                Ok(())
            }
            VaultCmd::Export(c) => c.run(global, out),
            VaultCmd::Purge(c) => c.run(global, out),
            VaultCmd::Delete(v) => {
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
