//! Jobs: archive and inventory retrieval, their descriptions, listing, completion (by
//! the test, or after N DescribeJob polls) and ranged output streamed from disk with the
//! tree-hash header only on tree-hash-aligned ranges ("Initiate Job", "Describe Job",
//! "Get Job Output", "Receiving Checksums When Downloading Data").

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use glacier_upload::treehash::{CHUNK_SIZE, TreeHash, is_tree_hash_aligned};
use time::OffsetDateTime;

use super::ACCOUNT_ID;
use super::dates::{iso_date, parse_iso_date};
use super::error::ApiError;
use super::hashing::tree_of;
use super::http::{Head, RespBody, Response};
use super::store::{Archive, Store, Vault, make_id, page, parse_limit, vault_arn};

/// Inventory output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// What a job retrieves.
#[derive(Debug)]
pub enum Kind {
    Archive {
        archive_id: String,
        archive_size: u64,
        archive_hash: TreeHash,
        description: String,
        /// Retrieved range, inclusive.
        start: u64,
        end: u64,
        leaves: Arc<Vec<TreeHash>>,
        /// A hard link (or copy) of the archive taken at initiation, so deleting the
        /// archive does not break a running retrieval.
        file: PathBuf,
    },
    Inventory {
        format: Format,
        start_date: Option<String>,
        end_date: Option<String>,
        limit: Option<String>,
        marker: Option<String>,
        /// After completion: the output file and its size, and the marker to continue.
        output: Option<(PathBuf, u64)>,
        next_marker: Option<String>,
    },
}

/// A job.
#[derive(Debug)]
pub struct Job {
    pub id: String,
    pub description: Option<String>,
    pub sns_topic: Option<String>,
    pub tier: String,
    pub created: OffsetDateTime,
    pub completed: Option<OffsetDateTime>,
    pub polls: u32,
    pub kind: Kind,
}

impl Job {
    fn status(&self) -> &'static str {
        if self.completed.is_some() {
            "Succeeded"
        } else {
            "InProgress"
        }
    }

    fn json(&self, vault: &str) -> serde_json::Value {
        let mut j = serde_json::json!({
            "JobId": self.id,
            "JobDescription": self.description,
            "VaultARN": vault_arn(vault),
            "CreationDate": iso_date(self.created),
            "Completed": self.completed.is_some(),
            "StatusCode": self.status(),
            "StatusMessage": self.completed.map(|_| "Succeeded"),
            "CompletionDate": self.completed.map(iso_date),
            "SNSTopic": self.sns_topic,
            "Tier": self.tier,
        });
        let m = j.as_object_mut().expect("json! of an object is an object");
        match &self.kind {
            Kind::Archive {
                archive_id,
                archive_size,
                archive_hash,
                start,
                end,
                leaves,
                ..
            } => {
                let range_hash = is_tree_hash_aligned(*start, *end, *archive_size)
                    .then(|| range_tree_hash(leaves, *start, *end).to_hex());
                m.insert("Action".into(), "ArchiveRetrieval".into());
                m.insert("ArchiveId".into(), archive_id.clone().into());
                m.insert("ArchiveSizeInBytes".into(), (*archive_size).into());
                m.insert("InventorySizeInBytes".into(), serde_json::Value::Null);
                m.insert("ArchiveSHA256TreeHash".into(), archive_hash.to_hex().into());
                m.insert("SHA256TreeHash".into(), range_hash.into());
                m.insert("RetrievalByteRange".into(), format!("{start}-{end}").into());
                m.insert(
                    "InventoryRetrievalParameters".into(),
                    serde_json::Value::Null,
                );
            }
            Kind::Inventory {
                format,
                start_date,
                end_date,
                limit,
                output,
                next_marker,
                ..
            } => {
                m.insert("Action".into(), "InventoryRetrieval".into());
                m.insert("ArchiveId".into(), serde_json::Value::Null);
                m.insert("ArchiveSizeInBytes".into(), serde_json::Value::Null);
                m.insert(
                    "InventorySizeInBytes".into(),
                    output.as_ref().map(|(_, n)| *n).into(),
                );
                m.insert("ArchiveSHA256TreeHash".into(), serde_json::Value::Null);
                m.insert("SHA256TreeHash".into(), serde_json::Value::Null);
                m.insert("RetrievalByteRange".into(), serde_json::Value::Null);
                m.insert(
                    "InventoryRetrievalParameters".into(),
                    serde_json::json!({
                        "Format": if *format == Format::Csv { "CSV" } else { "JSON" },
                        "StartDate": start_date,
                        "EndDate": end_date,
                        "Limit": limit,
                        "Marker": next_marker,
                    }),
                );
            }
        }
        j
    }
}

/// The tree hash of archive bytes `start..=end`, where `start` is a multiple of 1 MiB
/// and `end` ends a leaf or the archive: the tree over exactly those leaves.
fn range_tree_hash(leaves: &[TreeHash], start: u64, end: u64) -> TreeHash {
    tree_of(&leaves[(start / CHUNK_SIZE) as usize..=(end / CHUNK_SIZE) as usize])
}

fn job_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("The job ID was not found: {id}"))
}

fn str_field(
    body: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Result<Option<String>, ApiError> {
    match body.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::new(
            400,
            "SerializationException",
            format!("{name} must be a string"),
        )),
    }
}

/// Parses and checks a `RetrievalByteRange`: start a multiple of 1 MiB, end + 1 a
/// multiple of 1 MiB or the archive's end ("Initiate Job", RetrievalByteRange).
fn parse_byte_range(s: &str, size: u64) -> Result<(u64, u64), ApiError> {
    let bad = |why: &str| {
        ApiError::invalid(format!(
            "The specified byte range is not valid: {s} ({why}; archive size {size})"
        ))
    };
    let (a, b) = s.split_once('-').ok_or_else(|| bad("expected start-end"))?;
    let a: u64 = a.parse().map_err(|_| bad("start is not a number"))?;
    let b: u64 = b.parse().map_err(|_| bad("end is not a number"))?;
    if a > b || b >= size {
        return Err(bad(
            "start must not exceed end, and end must be inside the archive",
        ));
    }
    if a % CHUNK_SIZE != 0 {
        return Err(bad("start must be a multiple of 1 MiB"));
    }
    if (b + 1) % CHUNK_SIZE != 0 && b + 1 != size {
        return Err(bad(
            "end + 1 must be a multiple of 1 MiB or the archive size",
        ));
    }
    Ok((a, b))
}

pub fn initiate(
    store: &Store,
    vault: &str,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Response, ApiError> {
    let parsed: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            400,
            "SerializationException",
            format!("Malformed JSON: {e}"),
        )
    })?;
    let Some(obj) = parsed.as_object() else {
        return Err(ApiError::new(
            400,
            "SerializationException",
            "Expected a JSON object",
        ));
    };
    let mut st = store.lock();
    let v = st.vault(vault)?;
    let tier = str_field(obj, "Tier")?.unwrap_or_else(|| "Standard".into());
    if !["Expedited", "Standard", "Bulk"].contains(&tier.as_str()) {
        return Err(ApiError::invalid(format!("Invalid tier: {tier}")));
    }
    let job_type = str_field(obj, "Type")?
        .ok_or_else(|| ApiError::missing("Required parameter missing: Type"))?;
    let n = st.job_seq;
    let id = make_id("job", n, 92, false);
    let kind = match job_type.as_str() {
        "archive-retrieval" => {
            let archive_id = str_field(obj, "ArchiveId")?
                .ok_or_else(|| ApiError::missing("Required parameter missing: ArchiveId"))?;
            let a: &Archive = v.archive(&archive_id).ok_or_else(|| {
                ApiError::not_found(format!(
                    "Archive not found for ARN: {}/archives/{archive_id}",
                    vault_arn(vault)
                ))
            })?;
            let (start, end) = match str_field(obj, "RetrievalByteRange")? {
                Some(r) => parse_byte_range(&r, a.size)?,
                None => (0, a.size - 1),
            };
            let file = store.dir.join("jobs").join(&id);
            if std::fs::hard_link(&a.path, &file).is_err() {
                std::fs::copy(&a.path, &file).map_err(ApiError::internal)?;
            }
            Kind::Archive {
                archive_id: a.id.clone(),
                archive_size: a.size,
                archive_hash: a.tree_hash,
                description: a.description.clone(),
                start,
                end,
                leaves: Arc::clone(&a.leaves),
                file,
            }
        }
        "inventory-retrieval" => inventory_kind(obj, v)?,
        other => {
            return Err(ApiError::invalid(format!("Invalid job type: {other}")));
        }
    };
    st.job_seq += 1;
    let job = Job {
        id: id.clone(),
        description: str_field(obj, "Description")?,
        sns_topic: str_field(obj, "SNSTopic")?,
        tier,
        created: now,
        completed: None,
        polls: 0,
        kind,
    };
    let v = st.vault_mut(vault)?;
    v.jobs.push(job);
    if store.job_after_polls == Some(0) {
        let i = v.jobs.len() - 1;
        finish(v, i, &store.dir, now)?;
    }
    Ok(Response::new(202)
        .header(
            "Location",
            format!("/{ACCOUNT_ID}/vaults/{vault}/jobs/{id}"),
        )
        .header("x-amz-job-id", id))
}

fn inventory_kind(
    obj: &serde_json::Map<String, serde_json::Value>,
    v: &Vault,
) -> Result<Kind, ApiError> {
    let format = match str_field(obj, "Format")?.as_deref() {
        None | Some("JSON") => Format::Json,
        Some("CSV") => Format::Csv,
        Some(f) => return Err(ApiError::invalid(format!("Invalid format: {f}"))),
    };
    let params = match obj.get("InventoryRetrievalParameters") {
        None | Some(serde_json::Value::Null) => serde_json::Map::new(),
        Some(serde_json::Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(ApiError::new(
                400,
                "SerializationException",
                "InventoryRetrievalParameters must be an object",
            ));
        }
    };
    let start_date = str_field(&params, "StartDate")?;
    let end_date = str_field(&params, "EndDate")?;
    for d in [&start_date, &end_date].into_iter().flatten() {
        if parse_iso_date(d).is_none() {
            return Err(ApiError::invalid(format!("Invalid date: {d}")));
        }
    }
    let limit = str_field(&params, "Limit")?;
    if let Some(l) = &limit {
        if !l.parse::<usize>().is_ok_and(|n| n >= 1) {
            return Err(ApiError::invalid(format!("Invalid limit: {l}")));
        }
    }
    // An inventory job reports the vault's last inventory; a vault never inventoried
    // has none to report. Glacier answers 404 ResourceNotFoundException, "Inventory
    // retrieval jobs for vault ... cannot be initiated yet" ("Downloading a Vault
    // Inventory": the first inventory is made after the first upload, in about a day).
    let Some(inventory) = &v.inventory else {
        return Err(ApiError::not_found(format!(
            "Inventory retrieval jobs for vault {} cannot be initiated yet.",
            vault_arn(&v.name)
        )));
    };
    // The marker is opaque to clients ("Initiate Job", InventoryRetrievalParameters):
    // here it is the ID of the first archive of the next page, in the inventory.
    let marker = str_field(&params, "Marker")?;
    if let Some(m) = &marker {
        if !inventory.archives.iter().any(|a| a.id == *m) {
            return Err(ApiError::invalid(format!("Invalid marker: {m}")));
        }
    }
    Ok(Kind::Inventory {
        format,
        start_date,
        end_date,
        limit,
        marker,
        output: None,
        next_marker: None,
    })
}

/// Marks job `i` of `v` done; an inventory job's output is the vault's last inventory
/// (taken before the job started), never its live contents.
pub fn finish(v: &mut Vault, i: usize, dir: &Path, now: OffsetDateTime) -> Result<(), ApiError> {
    if v.jobs[i].completed.is_some() {
        return Ok(());
    }
    let path = dir.join("jobs").join(&v.jobs[i].id);
    let vault_name = v.name.clone();
    let empty = Vec::new();
    let (archives, inventory_date) = match &v.inventory {
        Some(inv) => (&inv.archives, inv.date),
        None => (&empty, now),
    };
    if let Kind::Inventory {
        format,
        start_date,
        end_date,
        limit,
        marker,
        output,
        next_marker,
    } = &mut v.jobs[i].kind
    {
        let from = start_date.as_deref().and_then(parse_iso_date);
        let to = end_date.as_deref().and_then(parse_iso_date);
        let first = marker
            .as_deref()
            .and_then(|m| archives.iter().position(|a| a.id == m))
            .unwrap_or(0);
        let selected: Vec<&Archive> = archives[first..]
            .iter()
            .filter(|a| from.is_none_or(|f| a.created >= f) && to.is_none_or(|t| a.created < t))
            .collect();
        let take = limit
            .as_deref()
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or(usize::MAX);
        *next_marker = selected.get(take).map(|a| a.id.clone());
        let shown = &selected[..take.min(selected.len())];
        let size = write_inventory(&path, *format, &vault_name, shown, inventory_date)
            .map_err(ApiError::internal)?;
        *output = Some((path, size));
    }
    v.jobs[i].completed = Some(now);
    Ok(())
}

fn write_inventory(
    path: &Path,
    format: Format,
    vault: &str,
    archives: &[&Archive],
    now: OffsetDateTime,
) -> std::io::Result<u64> {
    let mut w = BufWriter::new(File::create(path)?);
    match format {
        Format::Json => {
            write!(
                w,
                "{{\"VaultARN\":{},\"InventoryDate\":{},\"ArchiveList\":[",
                serde_json::Value::from(vault_arn(vault)),
                serde_json::Value::from(iso_date(now))
            )?;
            for (i, a) in archives.iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                let entry = serde_json::json!({
                    "ArchiveId": a.id,
                    "ArchiveDescription": a.description,
                    "CreationDate": iso_date(a.created),
                    "Size": a.size,
                    "SHA256TreeHash": a.tree_hash.to_hex(),
                });
                w.write_all(entry.to_string().as_bytes())?;
            }
            w.write_all(b"]}")?;
        }
        Format::Csv => {
            // "Get Job Output", CSV format: a quote inside a quoted field is escaped
            // with a backslash; backslashes themselves are not escaped.
            let q = |s: &str| format!("\"{}\"", s.replace('"', "\\\""));
            writeln!(
                w,
                "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash"
            )?;
            for a in archives {
                writeln!(
                    w,
                    "{},{},{},{},{}",
                    q(&a.id),
                    q(&a.description),
                    q(&iso_date(a.created)),
                    a.size,
                    q(&a.tree_hash.to_hex())
                )?;
            }
        }
    }
    let f = w.into_inner().map_err(|e| e.into_error())?;
    Ok(f.metadata()?.len())
}

fn job_index(v: &Vault, id: &str) -> Result<usize, ApiError> {
    // IDs are unique; searched from the newest, which is what clients ask about most (a
    // vault-scale bench holds 100,000 jobs, and a search from the oldest made the mock,
    // not the client, the cost being measured).
    v.jobs
        .iter()
        .rposition(|j| j.id == id)
        .ok_or_else(|| job_not_found(id))
}

pub fn describe(
    store: &Store,
    vault: &str,
    job_id: &str,
    now: OffsetDateTime,
) -> Result<Response, ApiError> {
    let mut st = store.lock();
    let v = st.vault_mut(vault)?;
    let i = job_index(v, job_id)?;
    if let Some(n) = store.job_after_polls {
        if v.jobs[i].completed.is_none() && v.jobs[i].polls >= n {
            finish(v, i, &store.dir, now)?;
        }
    }
    let body = v.jobs[i].json(vault);
    v.jobs[i].polls = v.jobs[i].polls.saturating_add(1);
    Ok(Response::json(200, &body))
}

pub fn list(store: &Store, vault: &str, head: &Head) -> Result<Response, ApiError> {
    let limit = parse_limit(head, 50)?;
    let completed = match head.query("completed") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(c) => {
            return Err(ApiError::invalid(format!(
                "The completed value is not valid: {c}"
            )));
        }
    };
    let status = match head.query("statuscode") {
        None => None,
        Some(s @ ("InProgress" | "Succeeded" | "Failed")) => Some(s),
        Some(s) => {
            return Err(ApiError::invalid(format!(
                "The job status code is not valid: {s}"
            )));
        }
    };
    let st = store.lock();
    let v = st.vault(vault)?;
    let jobs: Vec<&Job> = v
        .jobs
        .iter()
        .filter(|j| completed.is_none_or(|c| j.completed.is_some() == c))
        .filter(|j| status.is_none_or(|s| j.status() == s))
        .collect();
    let (items, marker) = page(&jobs, |j| j.id.clone(), head.query("marker"), limit)?;
    let list: Vec<serde_json::Value> = items.iter().map(|j| j.json(vault)).collect();
    Ok(Response::json(
        200,
        &serde_json::json!({"JobList": list, "Marker": marker}),
    ))
}

/// Parses `bytes=a-b` or `bytes=a-` against an output of `len` bytes.
fn parse_range(v: &str, len: u64) -> Option<(u64, u64)> {
    let (a, b) = v.strip_prefix("bytes=")?.split_once('-')?;
    let a: u64 = a.parse().ok()?;
    let b: u64 = if b.is_empty() {
        len.checked_sub(1)?
    } else {
        b.parse().ok()?
    };
    (a <= b && b < len).then_some((a, b))
}

pub fn output(store: &Store, vault: &str, job_id: &str, head: &Head) -> Result<Response, ApiError> {
    let st = store.lock();
    let v = st.vault(vault)?;
    let job = &v.jobs[job_index(v, job_id)?];
    if job.completed.is_none() {
        return Err(ApiError::invalid(format!(
            "The job is not currently available for download: {job_id}"
        )));
    }
    let (file, offset, len, content_type) = match &job.kind {
        Kind::Archive {
            file, start, end, ..
        } => (
            file.clone(),
            *start,
            end - start + 1,
            "application/octet-stream",
        ),
        Kind::Inventory { output, format, .. } => {
            let (p, n) = output
                .clone()
                .expect("a completed inventory job has output");
            let ct = if *format == Format::Csv {
                "text/csv"
            } else {
                "application/json"
            };
            (p, 0, n, ct)
        }
    };
    let (a, b, partial) = match head.header("range") {
        None => (0, len.saturating_sub(1), false),
        Some(r) => {
            let (a, b) = parse_range(r, len).ok_or_else(|| {
                ApiError::invalid(format!(
                    "The requested range is not valid: {r} (job output has {len} bytes)"
                ))
            })?;
            (a, b, true)
        }
    };
    let mut resp = Response::new(if partial { 206 } else { 200 })
        .header("Content-Type", content_type)
        .header("Accept-Ranges", "bytes");
    if let Kind::Archive {
        leaves,
        description,
        ..
    } = &job.kind
    {
        resp = resp.header("x-amz-archive-description", description.clone());
        // The checksum comes only for a tree-hash-aligned range of the output.
        if len > 0 && is_tree_hash_aligned(a, b, len) {
            let h = range_tree_hash(leaves, offset + a, offset + b);
            resp = resp.header("x-amz-sha256-tree-hash", h.to_hex());
        }
    }
    if partial {
        resp = resp.header("Content-Range", format!("bytes {a}-{b}/{len}"));
    }
    resp.body = RespBody::File {
        path: file,
        start: offset + a,
        len: if len == 0 { 0 } else { b - a + 1 },
    };
    Ok(resp)
}

/// Test hook: finish every in-progress job.
pub fn complete_all(store: &Store) {
    let now = OffsetDateTime::now_utc();
    let mut st = store.lock();
    for v in st.vaults.values_mut() {
        for i in 0..v.jobs.len() {
            finish(v, i, &store.dir, now).expect("finish job");
        }
    }
}

/// Test hook: forget a job.
pub fn expire(store: &Store, vault: &str, job_id: &str) {
    let mut st = store.lock();
    let v = st.vault_mut(vault).expect("vault exists");
    let i = job_index(v, job_id).expect("job exists");
    let job = v.jobs.remove(i);
    let _ = std::fs::remove_file(store.dir.join("jobs").join(&job.id));
}
