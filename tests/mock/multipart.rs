//! Multipart uploads: initiate, parts (each a file named by its start offset, replaced
//! atomically on re-upload), list, complete (validated like Glacier: every part present
//! and contiguous, only the last one short, archive size and tree hash matching), abort.
//! Rules from "Uploading Large Archives in Parts" and the multipart API pages.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;

use glacier_upload::treehash::{TreeHash, combine, is_valid_part_size};
use time::OffsetDateTime;

use super::ACCOUNT_ID;
use super::archives::description_header;
use super::dates::iso_date;
use super::error::ApiError;
use super::hashing::{receive_body, tree_hash_header};
use super::http::{Body, Head, Response};
use super::store::{Store, make_id, page, parse_limit, vault_arn};

/// At most 10,000 parts per upload.
const MAX_PARTS: u64 = 10_000;

/// One received part.
#[derive(Debug, Clone)]
pub struct Part {
    pub len: u64,
    pub tree_hash: TreeHash,
    pub leaves: Vec<TreeHash>,
}

/// An in-progress upload.
#[derive(Debug)]
pub struct Upload {
    pub id: String,
    pub part_size: u64,
    pub description: String,
    pub created: OffsetDateTime,
    pub dir: PathBuf,
    /// By start offset.
    pub parts: BTreeMap<u64, Part>,
    /// Bumped on every change to `parts`, so Complete notices a part landing mid-way.
    pub generation: u64,
}

impl Upload {
    pub fn part_path(&self, start: u64) -> PathBuf {
        self.dir.join(start.to_string())
    }

    fn json(&self, vault: &str) -> serde_json::Value {
        serde_json::json!({
            "ArchiveDescription": self.description,
            "CreationDate": iso_date(self.created),
            "MultipartUploadId": self.id,
            "PartSizeInBytes": self.part_size,
            "VaultARN": vault_arn(vault),
        })
    }
}

/// What a completed upload produced, so completing it again answers the same.
#[derive(Debug, Clone)]
pub struct Completed {
    pub archive_id: String,
    pub size: u64,
    pub tree_hash: TreeHash,
}

fn upload_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("The upload ID was not found: {id}"))
}

fn archive_created(vault: &str, c: &Completed) -> Response {
    Response::new(201)
        .header(
            "Location",
            format!("/{ACCOUNT_ID}/vaults/{vault}/archives/{}", c.archive_id),
        )
        .header("x-amz-archive-id", c.archive_id.clone())
        .header("x-amz-sha256-tree-hash", c.tree_hash.to_hex())
}

pub fn initiate(
    store: &Store,
    vault: &str,
    head: &Head,
    now: OffsetDateTime,
) -> Result<Response, ApiError> {
    store.lock().vault(vault)?;
    let raw = head
        .header("x-amz-part-size")
        .ok_or_else(|| ApiError::missing("Required parameter missing: x-amz-part-size"))?;
    let part_size = raw
        .parse::<u64>()
        .ok()
        .filter(|&n| is_valid_part_size(n))
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "Invalid part size: {raw}. Part size must be a power of two (a megabyte multiplied by 2^n) between 1 MB and 4 GB."
            ))
        })?;
    let description = description_header(head)?;
    let mut st = store.lock();
    let n = st.upload_seq;
    st.upload_seq += 1;
    let id = make_id("upload", n, 92, false);
    let dir = store.dir.join("uploads").join(&id);
    std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
    st.vault_mut(vault)?.uploads.push(Upload {
        id: id.clone(),
        part_size,
        description,
        created: now,
        dir,
        parts: BTreeMap::new(),
        generation: 0,
    });
    Ok(Response::new(201)
        .header(
            "Location",
            format!("/{ACCOUNT_ID}/vaults/{vault}/multipart-uploads/{id}"),
        )
        .header("x-amz-multipart-upload-id", id))
}

/// Parses `bytes a-b/*` (no `=`, unlike a `Range` header).
fn parse_content_range(v: &str) -> Option<(u64, u64)> {
    let rest = v.strip_prefix("bytes ")?.strip_suffix("/*")?;
    let (a, b) = rest.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(a) || !digits(b) {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?))
}

pub fn upload_part(
    store: &Store,
    vault: &str,
    upload_id: &str,
    head: &Head,
    len: u64,
    body: &mut Body,
) -> Result<Response, ApiError> {
    let part_size = {
        let st = store.lock();
        let v = st.vault(vault)?;
        let u = v
            .uploads
            .iter()
            .find(|u| u.id == upload_id)
            .ok_or_else(|| upload_not_found(upload_id))?;
        u.part_size
    };
    let raw = head
        .header("content-range")
        .ok_or_else(|| ApiError::missing("Required parameter missing: Content-Range"))?;
    let (start, end) = parse_content_range(raw)
        .ok_or_else(|| ApiError::invalid(format!("Invalid Content-Range: {raw}")))?;
    if end < start {
        return Err(ApiError::invalid(format!("Invalid Content-Range: {raw}")));
    }
    let range_len = end - start + 1;
    if start % part_size != 0 {
        return Err(ApiError::invalid(format!(
            "Content-Range start {start} is not a multiple of the part size {part_size}"
        )));
    }
    if range_len > part_size {
        return Err(ApiError::invalid(format!(
            "Content-Range {raw} is larger than the part size {part_size}"
        )));
    }
    if range_len != len {
        return Err(ApiError::invalid(format!(
            "Content-Range {raw} does not match Content-Length {len}"
        )));
    }
    if start / part_size >= MAX_PARTS {
        return Err(ApiError::invalid(format!(
            "Content-Range {raw} is beyond the 10,000th part"
        )));
    }
    let claimed = tree_hash_header(head)?;
    let tmp = store.tmp_path();
    let hashed = receive_body(head, body, len, &tmp, &claimed)?;
    let mut st = store.lock();
    let found = st
        .vault_mut(vault)
        .ok()
        .and_then(|v| v.uploads.iter_mut().find(|u| u.id == upload_id));
    let Some(u) = found else {
        let _ = std::fs::remove_file(&tmp);
        return Err(upload_not_found(upload_id));
    };
    std::fs::rename(&tmp, u.part_path(start)).map_err(ApiError::internal)?;
    let tree = hashed.tree_hash();
    u.parts.insert(
        start,
        Part {
            len,
            tree_hash: tree,
            leaves: hashed.leaves,
        },
    );
    u.generation += 1;
    Ok(Response::new(204).header("x-amz-sha256-tree-hash", tree.to_hex()))
}

pub fn list_parts(
    store: &Store,
    vault: &str,
    upload_id: &str,
    head: &Head,
) -> Result<Response, ApiError> {
    let limit = parse_limit(head, 50)?;
    let st = store.lock();
    let v = st.vault(vault)?;
    let u = v
        .uploads
        .iter()
        .find(|u| u.id == upload_id)
        .ok_or_else(|| upload_not_found(upload_id))?;
    let parts: Vec<(u64, &Part)> = u.parts.iter().map(|(&s, p)| (s, p)).collect();
    let (items, marker) = page(&parts, |(s, _)| s.to_string(), head.query("marker"), limit)?;
    let list: Vec<serde_json::Value> = items
        .iter()
        .map(|(s, p)| {
            serde_json::json!({
                "RangeInBytes": format!("{}-{}", s, s + p.len - 1),
                "SHA256TreeHash": p.tree_hash.to_hex(),
            })
        })
        .collect();
    Ok(Response::json(
        200,
        &serde_json::json!({
            "ArchiveDescription": u.description,
            "CreationDate": iso_date(u.created),
            "Marker": marker,
            "MultipartUploadId": u.id,
            "PartSizeInBytes": u.part_size,
            "Parts": list,
            "VaultARN": vault_arn(vault),
        }),
    ))
}

pub fn list_uploads(store: &Store, vault: &str, head: &Head) -> Result<Response, ApiError> {
    let limit = parse_limit(head, 50)?;
    let st = store.lock();
    let v = st.vault(vault)?;
    let (items, marker) = page(&v.uploads, |u| u.id.clone(), head.query("marker"), limit)?;
    let list: Vec<serde_json::Value> = items.iter().map(|u| u.json(vault)).collect();
    Ok(Response::json(
        200,
        &serde_json::json!({"Marker": marker, "UploadsList": list}),
    ))
}

pub fn abort(store: &Store, vault: &str, upload_id: &str) -> Result<Response, ApiError> {
    let mut st = store.lock();
    let v = st.vault_mut(vault)?;
    let i = v
        .uploads
        .iter()
        .position(|u| u.id == upload_id)
        .ok_or_else(|| upload_not_found(upload_id))?;
    let u = v.uploads.remove(i);
    let _ = std::fs::remove_dir_all(&u.dir);
    Ok(Response::new(204))
}

pub fn complete(
    store: &Store,
    vault: &str,
    upload_id: &str,
    head: &Head,
    now: OffsetDateTime,
) -> Result<Response, ApiError> {
    let raw_size = head
        .header("x-amz-archive-size")
        .ok_or_else(|| ApiError::missing("Required parameter missing: x-amz-archive-size"))?;
    let size: u64 = raw_size
        .parse()
        .map_err(|_| ApiError::invalid(format!("Invalid x-amz-archive-size: {raw_size}")))?;
    let claimed = tree_hash_header(head)?;

    // Snapshot what to concatenate, then copy without holding the lock.
    let (files, leaves, generation, description) = {
        let st = store.lock();
        let v = st.vault(vault)?;
        if let Some(c) = v.completed.get(upload_id) {
            // Complete is idempotent for a while: the same request gets the same archive.
            if c.size == size && c.tree_hash == claimed {
                return Ok(archive_created(vault, c));
            }
            return Err(upload_not_found(upload_id));
        }
        let u = v
            .uploads
            .iter()
            .find(|u| u.id == upload_id)
            .ok_or_else(|| upload_not_found(upload_id))?;
        let (files, leaves, hashes) = check_parts(u, size)?;
        let computed = combine(&hashes).expect("check_parts guarantees at least one part");
        if computed != claimed {
            return Err(ApiError::invalid(format!(
                "The tree hash given ({claimed}) does not match the tree hash of the uploaded parts ({computed})"
            )));
        }
        (files, leaves, u.generation, u.description.clone())
    };
    let tmp = store.tmp_path();
    concat(&files, &tmp).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ApiError::internal(e)
    })?;

    let mut st = store.lock();
    let v = st.vault_mut(vault)?;
    let Some(i) = v.uploads.iter().position(|u| u.id == upload_id) else {
        let _ = std::fs::remove_file(&tmp);
        return Err(upload_not_found(upload_id));
    };
    if v.uploads[i].generation != generation {
        let _ = std::fs::remove_file(&tmp);
        return Err(ApiError::invalid(
            "A part was uploaded while the upload was being completed",
        ));
    }
    let u = v.uploads.remove(i);
    let hashed = super::hashing::Hashed {
        len: size,
        sha256: String::new(),
        leaves,
    };
    let id = store.insert_archive(&mut st, vault, &tmp, hashed, &description, now)?;
    let _ = std::fs::remove_dir_all(&u.dir);
    let c = Completed {
        archive_id: id,
        size,
        tree_hash: claimed,
    };
    let resp = archive_created(vault, &c);
    st.vault_mut(vault)?
        .completed
        .insert(upload_id.to_string(), c);
    Ok(resp)
}

/// Every part from offset 0 present and contiguous up to `size`, all full-size but the
/// last. Returns the part files, all leaves, and the part hashes in order.
#[allow(clippy::type_complexity)]
fn check_parts(
    u: &Upload,
    size: u64,
) -> Result<(Vec<(PathBuf, u64)>, Vec<TreeHash>, Vec<TreeHash>), ApiError> {
    if size == 0 {
        return Err(ApiError::invalid("Invalid x-amz-archive-size: 0"));
    }
    let count = size.div_ceil(u.part_size);
    let mut files = Vec::new();
    let mut leaves = Vec::new();
    let mut hashes = Vec::new();
    for i in 0..count {
        let start = i * u.part_size;
        let want = u.part_size.min(size - start);
        let Some(p) = u.parts.get(&start) else {
            return Err(ApiError::invalid(format!(
                "Archive size {size} needs part bytes {start}-{} which has not been uploaded",
                start + want - 1
            )));
        };
        if p.len != want {
            return Err(ApiError::invalid(format!(
                "The part at bytes {start}-{} has {} bytes; for archive size {size} it must have {want}",
                start + p.len - 1,
                p.len
            )));
        }
        files.push((u.part_path(start), p.len));
        leaves.extend_from_slice(&p.leaves);
        hashes.push(p.tree_hash);
    }
    if let Some((&start, _)) = u.parts.range(count * u.part_size..).next() {
        return Err(ApiError::invalid(format!(
            "A part starting at byte {start} lies beyond the archive size {size}"
        )));
    }
    Ok((files, leaves, hashes))
}

fn concat(files: &[(PathBuf, u64)], dest: &std::path::Path) -> io::Result<()> {
    let mut out = File::create(dest)?;
    for (path, len) in files {
        // File-to-file io::copy uses copy_file_range on Linux.
        let copied = io::copy(&mut File::open(path)?, &mut out)?;
        if copied != *len {
            return Err(io::Error::other(format!(
                "part file {} has {copied} bytes, expected {len}",
                path.display()
            )));
        }
    }
    out.flush()
}
