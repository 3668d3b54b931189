//! The mock's state: vaults and their archives, uploads and jobs, with archive bytes in
//! files under the storage directory. Also the vault and archive operations. The state
//! lock is never held while a body streams, so parallel part uploads run in parallel.

use std::collections::{BTreeMap, HashMap};
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use glacier_upload::treehash::TreeHash;
use time::OffsetDateTime;

use super::http::{Body, Head, Response};
use super::jobs::Job;
use super::multipart::{Completed, Upload};
use super::util::{
    ApiError, Hashed, iso_date, make_id, stream_to_file, valid_description, valid_vault_name,
};
use super::{ACCOUNT_ID, ArchiveInfo, PartInfo, REGION, UploadInfo};

/// Largest single-request upload: 4 GB ("Upload Archive").
const MAX_SINGLE_UPLOAD: u64 = 4 << 30;

/// A stored archive.
#[derive(Debug, Clone)]
pub struct Archive {
    pub id: String,
    pub size: u64,
    pub tree_hash: TreeHash,
    /// The 1 MiB leaf hashes, for ranged tree hashes of job output.
    pub leaves: Arc<Vec<TreeHash>>,
    pub description: String,
    pub created: OffsetDateTime,
    pub path: PathBuf,
}

/// A vault's inventory as Glacier last took it: the archives at that moment. Glacier
/// inventories each vault about once a day, and DescribeVault, ListVaults and inventory
/// jobs all report that inventory, never the live contents ("Describe Vault",
/// "Downloading a Vault Inventory"). Tests take one with `MockGlacier::take_inventory`.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub date: OffsetDateTime,
    pub archives: Vec<Archive>,
}

/// A vault with everything in it.
#[derive(Debug)]
pub struct Vault {
    pub name: String,
    pub created: OffsetDateTime,
    /// The last inventory; `None` until the first ("Describe Vault": the counts and
    /// `LastInventoryDate` are null "if an inventory has not yet run on the vault").
    pub inventory: Option<Inventory>,
    /// An archive was added or deleted since the last inventory (or ever, before the
    /// first): DeleteVault refuses, and the next inventory is a new one.
    pub written: bool,
    pub archives: Vec<Archive>,
    pub uploads: Vec<Upload>,
    /// Completed uploads, for idempotent CompleteMultipartUpload.
    pub completed: HashMap<String, Completed>,
    pub jobs: Vec<Job>,
}

impl Vault {
    pub fn archive(&self, id: &str) -> Option<&Archive> {
        self.archives.iter().find(|a| a.id == id)
    }

    /// DescribeVault's body: counts as of the last inventory, null before the first.
    pub fn json(&self) -> serde_json::Value {
        let inv = self.inventory.as_ref();
        serde_json::json!({
            "CreationDate": iso_date(self.created),
            "LastInventoryDate": inv.map(|i| iso_date(i.date)),
            "NumberOfArchives": inv.map(|i| i.archives.len()),
            "SizeInBytes": inv.map(|i| i.archives.iter().map(|a| a.size).sum::<u64>()),
            "VaultARN": vault_arn(&self.name),
            "VaultName": self.name,
        })
    }
}

/// `arn:aws:glacier:REGION:ACCOUNT:vaults/NAME`.
pub fn vault_arn(name: &str) -> String {
    format!("arn:aws:glacier:{REGION}:{ACCOUNT_ID}:vaults/{name}")
}

/// 404 naming the vault, as Glacier words it.
pub fn vault_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Vault not found for ARN: {}", vault_arn(name)))
}

/// Everything mutable.
#[derive(Debug, Default)]
pub struct State {
    pub vaults: BTreeMap<String, Vault>,
    pub archive_seq: u64,
    pub upload_seq: u64,
    pub job_seq: u64,
}

impl State {
    pub fn vault(&self, name: &str) -> Result<&Vault, ApiError> {
        self.vaults.get(name).ok_or_else(|| vault_not_found(name))
    }

    pub fn vault_mut(&mut self, name: &str) -> Result<&mut Vault, ApiError> {
        self.vaults
            .get_mut(name)
            .ok_or_else(|| vault_not_found(name))
    }

    /// The next archive ID: 138 characters, every third one starting with `-`.
    pub fn next_archive_id(&mut self) -> String {
        let n = self.archive_seq;
        self.archive_seq += 1;
        make_id("archive", n, 138, n % 3 == 0)
    }
}

/// The state and the storage directory.
pub struct Store {
    pub dir: PathBuf,
    state: Mutex<State>,
    tmp_seq: AtomicU64,
    /// See `MockConfig::job_completes_after_polls`.
    pub job_after_polls: Option<u32>,
}

impl Store {
    pub fn new(dir: PathBuf, job_after_polls: Option<u32>) -> Store {
        Store {
            dir,
            state: Mutex::new(State::default()),
            tmp_seq: AtomicU64::new(0),
            job_after_polls,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("mock state lock")
    }

    /// A fresh path for a body being received.
    pub fn tmp_path(&self) -> PathBuf {
        self.dir
            .join("tmp")
            .join(self.tmp_seq.fetch_add(1, Ordering::Relaxed).to_string())
    }

    // ---- test-side helpers (no HTTP) ----

    pub fn create_vault(&self, name: &str) {
        let mut st = self.lock();
        st.vaults
            .entry(name.to_string())
            .or_insert_with(|| new_vault(name, OffsetDateTime::now_utc()));
    }

    pub fn put_archive(&self, vault: &str, data: &[u8], description: &str) -> String {
        let tmp = self.tmp_path();
        let hashed =
            stream_to_file(&mut &data[..], data.len() as u64, &tmp).expect("write seeded archive");
        let mut st = self.lock();
        assert!(st.vaults.contains_key(vault), "no vault {vault}");
        self.insert_archive(
            &mut st,
            vault,
            &tmp,
            hashed,
            description,
            OffsetDateTime::now_utc(),
        )
        .expect("store seeded archive")
    }

    /// Moves a received file into place as a new archive and returns its ID.
    pub fn insert_archive(
        &self,
        st: &mut State,
        vault: &str,
        tmp: &Path,
        hashed: Hashed,
        description: &str,
        now: OffsetDateTime,
    ) -> Result<String, ApiError> {
        st.vault(vault)?;
        let id = st.next_archive_id();
        let path = self.dir.join("archives").join(&id);
        std::fs::rename(tmp, &path).map_err(ApiError::internal)?;
        let archive = Archive {
            tree_hash: hashed.tree_hash(),
            id: id.clone(),
            size: hashed.len,
            leaves: Arc::new(hashed.leaves),
            description: description.to_string(),
            created: now,
            path,
        };
        let v = st.vault_mut(vault)?;
        v.archives.push(archive);
        v.written = true;
        Ok(id)
    }

    pub fn archive_path(&self, vault: &str, archive_id: &str) -> PathBuf {
        let st = self.lock();
        let v = st.vault(vault).expect("vault exists");
        v.archive(archive_id).expect("archive exists").path.clone()
    }

    pub fn archives(&self, vault: &str) -> Vec<ArchiveInfo> {
        let st = self.lock();
        let v = st.vault(vault).expect("vault exists");
        v.archives
            .iter()
            .map(|a| ArchiveInfo {
                archive_id: a.id.clone(),
                size: a.size,
                tree_hash: a.tree_hash.to_hex(),
                description: a.description.clone(),
                creation_date: iso_date(a.created),
            })
            .collect()
    }

    pub fn uploads(&self, vault: &str) -> Vec<UploadInfo> {
        let st = self.lock();
        let v = st.vault(vault).expect("vault exists");
        v.uploads
            .iter()
            .map(|u| UploadInfo {
                upload_id: u.id.clone(),
                part_size: u.part_size,
                description: u.description.clone(),
                parts: u
                    .parts
                    .iter()
                    .map(|(&start, p)| PartInfo {
                        start,
                        end: start + p.len - 1,
                        tree_hash: p.tree_hash.to_hex(),
                    })
                    .collect(),
            })
            .collect()
    }

    pub fn corrupt_part(&self, vault: &str, upload_id: &str, part_index: u64) {
        let mut st = self.lock();
        let v = st.vault_mut(vault).expect("vault exists");
        let u = v
            .uploads
            .iter_mut()
            .find(|u| u.id == upload_id)
            .expect("upload exists");
        let start = part_index * u.part_size;
        let path = u.part_path(start);
        let part = u.parts.get_mut(&start).expect("part exists");
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("open part file");
        let at = part.len / 2;
        let mut b = [0u8; 1];
        f.seek(SeekFrom::Start(at)).expect("seek part");
        f.read_exact(&mut b).expect("read part byte");
        b[0] ^= 0xff;
        f.seek(SeekFrom::Start(at)).expect("seek part");
        f.write_all(&b).expect("write part byte");
        drop(f);
        let mut file = std::fs::File::open(&path).expect("reopen part");
        let hashed = stream_to_file(&mut file, part.len, &self.dir.join("tmp").join("corrupt"))
            .expect("rehash part");
        let _ = std::fs::remove_file(self.dir.join("tmp").join("corrupt"));
        part.tree_hash = hashed.tree_hash();
        part.leaves = hashed.leaves;
        u.generation += 1;
    }
}

impl Store {
    /// Glacier's daily inventory, now: a vault written since its last inventory (or
    /// never inventoried but written) gets a new one of its current archives; otherwise
    /// the last one stands, date included ("Downloading a Vault Inventory": the
    /// inventory date is not updated when nothing was added or deleted). A vault never
    /// written has no inventory. Returns whether a new inventory was taken.
    pub fn take_inventory(&self, vault: &str, now: OffsetDateTime) -> bool {
        let mut st = self.lock();
        let v = st.vault_mut(vault).expect("vault exists");
        if !v.written {
            return false;
        }
        v.inventory = Some(Inventory {
            date: now,
            archives: v.archives.clone(),
        });
        v.written = false;
        true
    }

    pub fn complete_jobs(&self) {
        super::jobs::complete_all(self);
    }

    pub fn expire_job(&self, vault: &str, job_id: &str) {
        super::jobs::expire(self, vault, job_id);
    }
}

pub fn new_vault(name: &str, now: OffsetDateTime) -> Vault {
    Vault {
        name: name.to_string(),
        created: now,
        inventory: None,
        written: false,
        archives: Vec::new(),
        uploads: Vec::new(),
        completed: HashMap::new(),
        jobs: Vec::new(),
    }
}

/// Parses `limit` (1–1000; `default` when absent).
pub fn parse_limit(head: &Head, default: usize) -> Result<usize, ApiError> {
    match head.query("limit") {
        None => Ok(default),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid(format!(
                "Invalid limit value: {s}. The limit must be between 1 and 1000."
            ))),
        },
    }
}

/// One page of `items` starting at the one whose key equals `marker` (Glacier's "the
/// item at which the listing should begin"); returns the page and the next marker.
pub fn page<'a, T>(
    items: &'a [T],
    key: impl Fn(&T) -> String,
    marker: Option<&str>,
    limit: usize,
) -> Result<(&'a [T], Option<String>), ApiError> {
    let start = match marker {
        None => 0,
        Some(m) => items
            .iter()
            .position(|i| key(i) == m)
            .ok_or_else(|| ApiError::invalid(format!("Invalid marker: {m}")))?,
    };
    let end = (start + limit).min(items.len());
    let next = items.get(end).map(&key);
    Ok((&items[start..end], next))
}

// ---- vault operations ----

pub fn list_vaults(store: &Store, head: &Head) -> Result<Response, ApiError> {
    let limit = parse_limit(head, 10)?;
    let st = store.lock();
    // Glacier's marker here is the ARN of the last vault returned: listing resumes after it.
    let after = match head.query("marker") {
        None => None,
        Some(m) => Some(
            m.strip_prefix(&vault_arn(""))
                .ok_or_else(|| ApiError::invalid(format!("Invalid marker: {m}")))?
                .to_string(),
        ),
    };
    let all: Vec<&Vault> = st
        .vaults
        .values()
        .filter(|v| after.as_deref().is_none_or(|a| v.name.as_str() > a))
        .collect();
    let page: Vec<&Vault> = all.iter().take(limit).copied().collect();
    let marker = if all.len() > limit {
        page.last().map(|v| vault_arn(&v.name))
    } else {
        None
    };
    let list: Vec<serde_json::Value> = page.iter().map(|v| v.json()).collect();
    Ok(Response::json(
        200,
        &serde_json::json!({"Marker": marker, "VaultList": list}),
    ))
}

pub fn create_vault(store: &Store, name: &str, now: OffsetDateTime) -> Result<Response, ApiError> {
    if !valid_vault_name(name) {
        return Err(ApiError::invalid(format!(
            "The vault name is not valid: {name}. Vault names are 1 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'."
        )));
    }
    let mut st = store.lock();
    // CreateVault is idempotent: an existing vault is not an error.
    st.vaults
        .entry(name.to_string())
        .or_insert_with(|| new_vault(name, now));
    Ok(Response::new(201).header("Location", format!("/{ACCOUNT_ID}/vaults/{name}")))
}

pub fn describe_vault(store: &Store, name: &str) -> Result<Response, ApiError> {
    let st = store.lock();
    Ok(Response::json(200, &st.vault(name)?.json()))
}

/// "Delete Vault": succeeds "only if there are no archives in the vault as of the last
/// inventory and there have been no writes to the vault since the last inventory";
/// otherwise 400 InvalidParameterValueException. A vault never written has neither.
pub fn delete_vault(store: &Store, name: &str) -> Result<Response, ApiError> {
    let mut st = store.lock();
    let v = st.vault(name)?;
    let inventoried_empty = v.inventory.as_ref().is_none_or(|i| i.archives.is_empty());
    if v.written || !inventoried_empty {
        return Err(ApiError::invalid(format!(
            "Vault not empty or recently written to: {}",
            vault_arn(name)
        )));
    }
    st.vaults.remove(name);
    Ok(Response::new(204))
}

// ---- archive operations ----

/// Reads a required tree-hash header as a hash.
pub fn tree_hash_header(head: &Head) -> Result<TreeHash, ApiError> {
    let v = head
        .header("x-amz-sha256-tree-hash")
        .ok_or_else(|| ApiError::missing("Required parameter missing: x-amz-sha256-tree-hash"))?;
    v.parse()
        .map_err(|_| ApiError::invalid(format!("Invalid x-amz-sha256-tree-hash: {v}")))
}

/// Checks a received body's hashes against its headers.
pub fn check_hashes(head: &Head, hashed: &Hashed, claimed_tree: &TreeHash) -> Result<(), ApiError> {
    let claimed = head.header("x-amz-content-sha256").unwrap_or_default();
    if !claimed.eq_ignore_ascii_case(&hashed.sha256) {
        return Err(ApiError::invalid(format!(
            "The value passed in as x-amz-content-sha256 does not match the computed payload hash. Computed digest: {} expected hash: {claimed}",
            hashed.sha256
        )));
    }
    let tree = hashed.tree_hash();
    if tree != *claimed_tree {
        return Err(ApiError::invalid(format!(
            "Checksum mismatch: the x-amz-sha256-tree-hash {claimed_tree} does not match the tree hash of the payload {tree}"
        )));
    }
    Ok(())
}

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
    let hashed = stream_to_file(body, len, &tmp).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ApiError::new(
            408,
            "RequestTimeoutException",
            format!("body not received: {e}"),
        )
    })?;
    if let Err(e) = check_hashes(head, &hashed, &claimed) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
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
