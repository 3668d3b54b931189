//! `glacier archive delete VAULT ARCHIVE_ID` (retrieval commands join here).

use super::{Args, Global, Output, note};
use crate::error::Result;
use crate::glacier::{ArchiveId, check_vault_name};

/// A parsed `archive` command.
#[derive(Debug)]
pub enum ArchiveCmd {
    /// Delete an archive.
    Delete(String, ArchiveId),
}

impl ArchiveCmd {
    pub(super) fn parse(mut args: Args) -> Result<ArchiveCmd> {
        let _action = args.action("archive", &["delete"])?;
        let [vault, id] = args.exact("archive delete", ["VAULT", "ARCHIVE_ID"])?;
        check_vault_name(&vault)?;
        Ok(ArchiveCmd::Delete(vault, ArchiveId::new(id)?))
    }

    pub(super) fn run(self, global: &Global, out: &mut Output) -> Result<()> {
        let client = global.client()?;
        match self {
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
        }
    }
}
