//! `glacier uploads list VAULT | parts VAULT UPLOAD_ID | abort VAULT UPLOAD_ID`

use super::output::or_dash;
use super::{Args, Global, Output, note};
use crate::error::Result;
use crate::glacier::{UploadId, check_vault_name};
use crate::progress::human_bytes;

/// A parsed `uploads` command.
#[derive(Debug)]
pub enum UploadsCmd {
    /// Uploads in progress in a vault.
    List(String),
    /// The parts of one upload.
    Parts(String, UploadId),
    /// Abort an upload.
    Abort(String, UploadId),
}

impl UploadsCmd {
    pub(super) fn parse(mut args: Args) -> Result<UploadsCmd> {
        let action = args.action("uploads", &["list", "parts", "abort"])?;
        if action == "list" {
            let [vault] = args.exact("uploads list", ["VAULT"])?;
            check_vault_name(&vault)?;
            return Ok(UploadsCmd::List(vault));
        }
        let [vault, id] = args.exact(&format!("uploads {action}"), ["VAULT", "UPLOAD_ID"])?;
        check_vault_name(&vault)?;
        let id = UploadId::new(id)?;
        Ok(if action == "parts" {
            UploadsCmd::Parts(vault, id)
        } else {
            UploadsCmd::Abort(vault, id)
        })
    }

    pub(super) fn run(self, global: &Global, out: &mut Output) -> Result<()> {
        let client = global.client()?;
        match self {
            UploadsCmd::List(vault) => {
                let ups = client.list_multipart_uploads(&vault)?;
                if global.json {
                    return out.json_value(&ups);
                }
                let rows: Vec<Vec<String>> = ups
                    .iter()
                    .map(|u| {
                        vec![
                            or_dash(u.multipart_upload_id.as_deref()),
                            or_dash(u.part_size_in_bytes.map(human_bytes)),
                            or_dash(u.creation_date.as_deref()),
                            u.archive_description.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                out.table(
                    &["UPLOAD ID", "PART SIZE", "CREATED", "DESCRIPTION"],
                    &rows,
                    &format!("no uploads in progress in vault '{vault}'"),
                )
            }
            UploadsCmd::Parts(vault, id) => {
                let list = client.list_parts(&vault, &id)?;
                if global.json {
                    let parts: Vec<_> = list
                        .parts
                        .iter()
                        .map(|p| {
                            serde_json::json!({"start": p.start, "end": p.end, "tree_hash": p.tree_hash.to_hex()})
                        })
                        .collect();
                    return out.json(&serde_json::json!({
                        "upload_id": id.as_str(),
                        "part_size": list.part_size,
                        "description": list.archive_description,
                        "parts": parts,
                    }));
                }
                note(
                    global,
                    &format!(
                        "upload {id}: part size {}, {} part{} present",
                        human_bytes(list.part_size),
                        list.parts.len(),
                        if list.parts.len() == 1 { "" } else { "s" }
                    ),
                );
                let rows: Vec<Vec<String>> = list
                    .parts
                    .iter()
                    .map(|p| vec![format!("{}-{}", p.start, p.end), p.tree_hash.to_hex()])
                    .collect();
                out.table(&["RANGE", "TREE HASH"], &rows, "no parts uploaded yet")
            }
            UploadsCmd::Abort(vault, id) => {
                client.abort_multipart_upload(&vault, &id)?;
                if global.json {
                    return out
                        .json(&serde_json::json!({"upload_id": id.as_str(), "aborted": true}));
                }
                note(global, &format!("aborted upload {id} in vault '{vault}'"));
                Ok(())
            }
        }
    }
}
