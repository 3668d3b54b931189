//! Answers that never came back. A request that creates something (an upload, an
//! archive) may reach Glacier and take effect while its answer is lost: the connection
//! drops or times out after the request went out. Sending it again blindly would leave
//! an orphan upload; giving up would lose an archive ID. This module looks for what the
//! first attempt made before anything is sent again.
//!
//! Glacier has no idempotency token for InitiateMultipartUpload, so "what the first
//! attempt made" is recognised by what it must look like: ListMultipartUploads lists an
//! upload with the same description and part size, created within the last
//! [`RECENT`]. CompleteMultipartUpload is idempotent for a while after success (API
//! Reference, "Complete Multipart Upload": "if you call the operation again within a
//! short period, the operation will succeed and return the same archive ID").

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use std::fs::File;
use std::path::Path;

use super::{Events, Outcome, Settings, state};
use crate::error::{Action, Error, Result};
use crate::filehash;
use crate::glacier::{Client, UploadDescription, UploadId};
use crate::retrieval::{Create, create};
use crate::treehash::TreeHash;

/// How far back an upload may have been created to count as "the one our lost request
/// made": the request's own time limit with retries is well within it, and an upload
/// someone made by hand with the same description that recently is improbable.
pub const RECENT: time::Duration = time::Duration::minutes(15);

/// The upload a lost InitiateMultipartUpload made, if the list shows one: same
/// description and part size, created since `since`, not claimed by another local
/// resume state. The newest wins.
pub fn find_initiated(
    uploads: &[UploadDescription],
    description: &str,
    part_size: u64,
    since: OffsetDateTime,
    claimed: &dyn Fn(&UploadId) -> bool,
) -> Option<UploadId> {
    uploads
        .iter()
        .filter(|u| u.archive_description.as_deref() == Some(description))
        .filter(|u| u.part_size_in_bytes == Some(part_size))
        .filter_map(|u| {
            let created = OffsetDateTime::parse(u.creation_date.as_deref()?, &Rfc3339).ok()?;
            let id = UploadId::from_server_checked(u.multipart_upload_id.as_deref()?).ok()?;
            (created >= since).then_some((created, id))
        })
        .filter(|(_, id)| !claimed(id))
        .max_by_key(|(created, _)| *created)
        .map(|(_, id)| id)
}

/// What to do when looking for the upload a lost InitiateMultipartUpload started failed:
/// the upload may exist (its parts billed until it is aborted).
fn look_advice(vault: &str) -> String {
    format!(
        "check '{}' (and abort it if unwanted)",
        Action::ListUploads { vault }
    )
}

/// Initiates a multipart upload through the one policy for calls that create something
/// ([`crate::retrieval::create`]): if the answer is lost, the upload the request made is
/// used (see the module comment); only when Glacier shows none is the request sent again.
pub fn initiate(
    client: &Client,
    opts: &Settings,
    part_size: u64,
    events: &dyn Events,
) -> Result<UploadId> {
    let sent = OffsetDateTime::now_utc();
    let claimed = |id: &UploadId| {
        opts.state_dir
            .as_ref()
            .is_some_and(|d| state::load(d, id).is_some())
    };
    let advice = look_advice(&opts.vault);
    create(
        Create {
            operation: "InitiateMultipartUpload",
            thing: "an upload",
            send: &mut || {
                client.initiate_multipart_upload(&opts.vault, part_size, &opts.description)
            },
            look: &mut || {
                let uploads = client.list_multipart_uploads(&opts.vault)?;
                Ok(find_initiated(
                    &uploads,
                    &opts.description,
                    part_size,
                    sent - RECENT,
                    &claimed,
                ))
            },
            advice: &advice,
        },
        &mut |m| events.note(m),
    )
}

/// Is this Glacier's "no such upload" (completed, aborted or expired)? A missing vault
/// is the same ResourceNotFoundException (the code covers "a vault, upload ID, or job
/// ID"), told apart only by its message, "Vault not found for ARN: ..." (API Reference,
/// "Error Responses", example 2); it says nothing about the upload, so it is not "gone".
pub fn is_gone(e: &Error) -> bool {
    match e {
        Error::Service(s) => {
            s.code == "ResourceNotFoundException" && !s.message.starts_with("Vault not found")
        }
        Error::WithHint { error, .. } => is_gone(error),
        _ => false,
    }
}

/// The tree hash of a whole local file, for [`complete_again`] when no resume state
/// recorded what was being completed.
pub fn file_tree_hash(opts: &Settings, path: &Path, file: &File, size: u64) -> Result<TreeHash> {
    let digests = filehash::hash_file(
        file,
        size,
        filehash::Options {
            threads: opts.threads.max(2),
            sha256: false,
            progress: None,
        },
    )
    .map_err(|e| Error::io(path, e))?;
    Ok(digests.tree_hash)
}

/// What a resume state says was being completed, if it says so and is readable.
pub fn recorded(st: &state::UploadState) -> Option<(u64, TreeHash)> {
    let c = st.completing.as_ref()?;
    Some((c.size, c.tree_hash.parse().ok()?))
}

/// Completes `upload_id` once more with `size` and `tree_hash`: for an upload Glacier no
/// longer lists, whose completion may have succeeded with its answer lost. Glacier
/// answers a repeated Complete with the same archive ID for a while; after that, or if
/// the upload was aborted or expired, the error says what to look for in an inventory.
pub fn complete_again(
    client: &Client,
    opts: &Settings,
    upload_id: &UploadId,
    size: u64,
    tree_hash: TreeHash,
    events: &dyn Events,
) -> Result<Outcome> {
    events.completing();
    let archive = client
        .complete_multipart_upload(&opts.vault, upload_id, size, &tree_hash)
        .map_err(|e| {
            // Replace the client's generic advice with the whole story, once.
            let e = match e {
                Error::WithHint { error, .. } if is_gone(&error) => *error,
                e => e,
            };
            if !is_gone(&e) {
                return e;
            }
            Error::WithHint {
                error: Box::new(e),
                hint: format!(
                    "upload {upload_id} was completed earlier and its answer lost (its archive, {size} bytes with tree hash {tree_hash}, then shows in the vault's next inventory), or aborted, or expired after 24 hours idle (then nothing was stored)"
                ),
            }
        })?;
    Ok(Outcome {
        archive,
        size,
        upload_id: Some(upload_id.clone()),
        parts_uploaded: 0,
        parts_reused: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failed look for a lost upload's start says how to look, in the library's words
    /// (the CLI installs its command instead).
    #[test]
    fn the_advice_after_a_failed_look_names_listmultipartuploads() {
        assert_eq!(
            look_advice("v"),
            "check 'ListMultipartUploads for vault v' (and abort it if unwanted)"
        );
    }

    fn upload(id: &str, desc: &str, part: u64, created: &str) -> UploadDescription {
        UploadDescription {
            multipart_upload_id: Some(id.into()),
            archive_description: Some(desc.into()),
            creation_date: Some(created.into()),
            part_size_in_bytes: Some(part),
            vault_arn: Some("arn:aws:glacier:us-east-1:012345678901:vaults/v".into()),
        }
    }

    #[test]
    fn finds_the_recent_upload_with_the_same_description_and_part_size() {
        let since = OffsetDateTime::parse("2026-01-01T12:00:00Z", &Rfc3339).expect("date");
        let list = vec![
            upload("old", "d", 1 << 20, "2026-01-01T11:00:00.000Z"),
            upload("other-desc", "e", 1 << 20, "2026-01-01T12:01:00.000Z"),
            upload("other-size", "d", 2 << 20, "2026-01-01T12:01:00.000Z"),
            upload("mine", "d", 1 << 20, "2026-01-01T12:01:00.000Z"),
            upload("claimed", "d", 1 << 20, "2026-01-01T12:02:00.000Z"),
            // Newest, but not a Glacier ID: never adopted (it would become a file name).
            upload("../../evil", "d", 1 << 20, "2026-01-01T12:03:00.000Z"),
        ];
        let claimed = |id: &UploadId| id.as_str() == "claimed";
        let found = find_initiated(&list, "d", 1 << 20, since, &claimed);
        assert_eq!(found.as_ref().map(|i| i.as_str()), Some("mine"));
        let none = |_: &UploadId| false;
        assert_eq!(
            find_initiated(&list[..1], "d", 1 << 20, since, &none),
            None,
            "an upload older than the request is someone else's"
        );
    }
}
