//! The archive operations: UploadArchive and DeleteArchive, and the archive description
//! rules that multipart uploads share.

use time::OffsetDateTime;

use super::ACCOUNT_ID;
use super::error::ApiError;
use super::hashing::{receive_body, tree_hash_header};
use super::http::{Body, Head, Response};
use super::store::{Store, vault_arn};

/// Largest single-request upload: 4 GB ("Upload Archive").
const MAX_SINGLE_UPLOAD: u64 = 4 << 30;

/// Reads the archive description header, validated.
pub fn description_header(head: &Head) -> Result<String, ApiError> {
    let d = head.header("x-amz-archive-description").unwrap_or("");
    if !valid_description(d) {
        return Err(ApiError::invalid(
            "Invalid archive description: it must be at most 1024 printable ASCII characters",
        ));
    }
    Ok(d.to_string())
}

pub fn upload_archive(
    store: &Store,
    vault: &str,
    head: &Head,
    len: u64,
    body: &mut Body,
    now: OffsetDateTime,
) -> Result<Response, ApiError> {
    store.lock().vault(vault)?;
    let description = description_header(head)?;
    let claimed = tree_hash_header(head)?;
    if len == 0 {
        return Err(ApiError::invalid(
            "Invalid Content-Length: 0. Archives must be at least 1 byte",
        ));
    }
    if len > MAX_SINGLE_UPLOAD {
        return Err(ApiError::invalid(format!(
            "Invalid Content-Length: {len}. A single-request upload is at most 4 GB; use a multipart upload"
        )));
    }
    let tmp = store.tmp_path();
    let hashed = receive_body(head, body, len, &tmp, &claimed)?;
    let tree = hashed.tree_hash();
    let mut st = store.lock();
    let id = store.insert_archive(&mut st, vault, &tmp, hashed, &description, now)?;
    Ok(Response::new(201)
        .header(
            "Location",
            format!("/{ACCOUNT_ID}/vaults/{vault}/archives/{id}"),
        )
        .header("x-amz-archive-id", id)
        .header("x-amz-sha256-tree-hash", tree.to_hex()))
}

pub fn delete_archive(store: &Store, vault: &str, id: &str) -> Result<Response, ApiError> {
    let mut st = store.lock();
    let v = st.vault_mut(vault)?;
    let Some(i) = v.archives.iter().position(|a| a.id == id) else {
        return Err(ApiError::not_found(format!(
            "Archive not found for ARN: {}/archives/{id}",
            vault_arn(vault)
        )));
    };
    let a = v.archives.remove(i);
    v.written = true;
    let _ = std::fs::remove_file(&a.path);
    Ok(Response::new(204))
}

/// Is `s` a valid archive description: at most 1,024 printable ASCII characters
/// (0x20–0x7E), per "Upload Archive" / "Initiate Multipart Upload" in the API reference.
pub fn valid_description(s: &str) -> bool {
    s.len() <= 1024 && s.bytes().all(|b| (0x20..=0x7e).contains(&b))
}
