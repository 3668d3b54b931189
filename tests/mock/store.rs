//! The mock's state: vaults and their archives, uploads and jobs, with archive bytes in
//! files under the storage directory, the IDs Glacier hands out, and the paging every
//! list operation shares. The state lock is never held while a body streams, so parallel
//! part uploads run in parallel.

use std::collections::{BTreeMap, HashMap};
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use glacier_upload::treehash::TreeHash;
use time::OffsetDateTime;

use super::http::Head;
use super::jobs::Job;
use super::multipart::{Completed, Upload};
use sha2::{Digest, Sha256};

use super::dates::iso_date;
use super::error::ApiError;
use super::hashing::{Hashed, stream_to_file};
use super::{ACCOUNT_ID, ArchiveInfo, PartInfo, REGION, UploadInfo};

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
        // Glacier has no empty archives (UploadArchive and Complete refuse size 0): a seed
        // of one would be a test that no real vault can reproduce.
        assert!(
            !data.is_empty(),
            "archives are at least 1 byte (seeding {vault})"
        );
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

/// The alphabet of Glacier IDs (URL-safe base64).
const ID_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A deterministic ID of `len` characters from [`ID_ALPHABET`], the `n`th of its `kind`.
/// With `leading_dash` it starts with `-` then a letter (archive IDs can begin with `-`,
/// and clients must cope); otherwise it starts with a letter or digit.
pub fn make_id(kind: &str, n: u64, len: usize, leading_dash: bool) -> String {
    let mut out = String::with_capacity(len);
    let mut block = 0u64;
    while out.len() < len {
        let digest = Sha256::new()
            .chain_update(kind.as_bytes())
            .chain_update(n.to_le_bytes())
            .chain_update(block.to_le_bytes())
            .finalize();
        for byte in digest {
            if out.len() == len {
                break;
            }
            let c = match out.len() {
                0 if leading_dash => b'-',
                0 => ID_ALPHABET[(byte % 62) as usize],
                1 if leading_dash => ID_ALPHABET[(byte % 52) as usize],
                _ => ID_ALPHABET[(byte & 63) as usize],
            };
            out.push(c as char);
        }
        block += 1;
    }
    out
}
