//! The S3 destination of `vault export VAULT s3://BUCKET/PREFIX`: each archive
//! streams from its job output into one S3 object, with no local copy, and with memory
//! that does not grow with the part size (a 40 TiB archive needs 4 GiB parts).
//!
//! Every byte is checked twice, and each part is never held whole. Each S3 part is one
//! range of the job output (a power of two MiB, so tree-hash aligned), fetched when the
//! part is sent and streamed straight into UploadPart by [`s3::upload_streamed`]; the
//! range's reader (`ranges.rs`) hashes the bytes on the way and ends only when they
//! match the tree hash Glacier sent for the range, so a bad range breaks its part's
//! request off before its last chunk and S3 stores nothing (the part is sent again from
//! a new fetch). S3's side: every part carries a trailing `x-amz-checksum-sha256`, and
//! the object's checksum S3 reports is compared with ours. The object is completed only
//! with a [`Verified`] token, made when the ranges' hashes combine to the job's and the
//! inventory's tree hash; any other ending aborts the multipart upload, so nothing
//! unchecked is ever visible under the final key.
//!
//! The local state (journal, saved inventory, manifest) lives in a journal directory
//! ([`default_journal_dir`]), since there is no DIR; the manifest is copied to the bucket
//! under `.glacier-export/` below the prefix at the end of a run (a name no archive can take, see
//! [`naming::RESERVED`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod ranges;

use ranges::GlacierRanges;

use super::Destination;
use crate::config::Env;
use crate::download;
use crate::error::{Action, Error, Result, Setting};
use crate::glacier::{Client, JobDescription};
use crate::progress::{Counts, Reporter};
use crate::s3::{
    self, ArchiveMetadata, MultipartWriter, ObjectOptions, ObjectSpec, StorageClass, StreamOptions,
    UploadOptions, Verified,
};
use crate::sync::LockExt;
use crate::treehash::{self, TreeHash, TreeHasher};
use crate::vault::select::Shard;
use crate::vault::{Item, manifest, naming};

/// `s3://BUCKET/PREFIX`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Target {
    /// The bucket.
    pub bucket: String,
    /// The key prefix: empty, or ending in `/` (a trailing `/` is added, so that
    /// `s3://b/backup` and `s3://b/backup/` mean the same folder).
    pub prefix: String,
}

impl S3Target {
    /// Parses `s3://BUCKET[/PREFIX]`; `None` when `s` does not start with `s3://`.
    pub fn parse(s: &str) -> Option<Result<S3Target>> {
        let rest = s.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        Some(
            Self::new(bucket, prefix)
                .map_err(|e| Error::Usage(format!("'{s}': {}", crate::error::chain(&e)))),
        )
    }

    fn new(bucket: &str, prefix: &str) -> Result<S3Target> {
        s3::check_bucket_name(bucket)?;
        let mut prefix = prefix.to_string();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        if prefix.starts_with('/') || prefix.split('/').any(|c| c == "." || c == "..") {
            return Err(Error::Input(format!(
                "prefix '{prefix}' has an empty, '.' or '..' component"
            )));
        }
        Ok(S3Target {
            bucket: bucket.to_string(),
            prefix,
        })
    }

    /// The object key of an archive named `name` (a relative path from naming).
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The key the manifest file `file` is copied to.
    pub fn manifest_key(&self, file: &str) -> String {
        format!("{}{}/{file}", self.prefix, naming::RESERVED)
    }
}

impl std::fmt::Display for S3Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// FNV-1a 64 of `s`: a short, stable name for a prefix in a directory name (not a
/// security property: two prefixes of one bucket colliding would share a journal, and
/// the journal is keyed by archive ID, so the worst case is a skipped HeadObject).
fn prefix_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Where an S3 export keeps its journal when `--journal` is not given:
/// `$XDG_DATA_HOME/glacier-upload/export/<bucket>/<prefix hash>/` (XDG Base Directory
/// Specification: user-specific data, default `~/.local/share`). The vault is part of the
/// hash too, since two vaults may be exported under one prefix.
pub fn default_journal_dir(env: &dyn Env, vault: &str, target: &S3Target) -> Result<PathBuf> {
    let base = match env.var("XDG_DATA_HOME").filter(|v| v.starts_with('/')) {
        Some(d) => PathBuf::from(d),
        None => env
            .home()
            .ok_or_else(|| {
                Error::Usage(format!(
                    "no home directory for the export journal; give {} DIR",
                    Setting::Journal
                ))
            })?
            .join(".local/share"),
    };
    Ok(base
        .join("glacier-upload/export")
        .join(&target.bucket)
        .join(format!(
            "{:016x}",
            prefix_hash(&format!("{vault}\n{}", target.prefix))
        )))
}

/// [`S3Destination::max_memory`] unless set: the same 512 MiB as `upload --max-memory`.
pub const DEFAULT_MAX_MEMORY: u64 = 512 << 20;

/// An S3 bucket and prefix.
#[derive(Debug, Clone)]
pub struct S3Destination {
    client: Arc<s3::Client>,
    target: S3Target,
    storage_class: StorageClass,
    part_size: u64,
    /// Cap on the buffers of the parts in flight (`--max-memory`); each streamed part
    /// takes [`s3::PART_STREAM_MEMORY`] whatever its size.
    pub max_memory: u64,
    /// Set by Ctrl-C.
    pub stop: Arc<AtomicBool>,
    /// Told of the bytes fetched and verified, for progress.
    pub reporter: Arc<dyn Reporter>,
}

impl S3Destination {
    /// Exports into `target` with objects of `storage_class`, uploaded in parts of
    /// `part_size` (kept within S3's limits per object).
    pub fn new(
        client: Arc<s3::Client>,
        target: S3Target,
        storage_class: StorageClass,
        part_size: u64,
    ) -> S3Destination {
        S3Destination {
            client,
            target,
            storage_class,
            part_size,
            max_memory: DEFAULT_MAX_MEMORY,
            stop: Arc::new(AtomicBool::new(false)),
            reporter: Arc::new(Counts::new()),
        }
    }

    /// Whether the object at the item's key is this archive (same archive ID, tree hash
    /// and size); `None` when there is no object there.
    fn existing(&self, item: &Item) -> Result<Option<bool>> {
        let key = self.target.key(&item.name);
        let Some(head) = self.client.head_object(&self.target.bucket, &key)? else {
            return Ok(None);
        };
        let same = ArchiveMetadata::from_headers(&head.metadata).is_some_and(|m| {
            m.archive_id == item.archive_id && m.tree_hash.to_hex() == item.tree_hash
        }) && head.size == item.size;
        Ok(Some(same))
    }

    /// Aborts multipart uploads of exactly `key` left by an earlier run that was killed
    /// (kill -9 or a power cut leave no chance to abort; S3 keeps charging for their
    /// parts). The key is this export's own name for the archive, about to be written.
    fn abort_stale_uploads(&self, key: &str) -> Result<()> {
        let b = &self.target.bucket;
        for u in self.client.list_multipart_uploads(b, key)? {
            if u.key == key {
                self.client.abort_multipart_upload(b, key, &u.upload_id)?;
            }
        }
        Ok(())
    }

    /// The metadata the object of `item` carries.
    fn metadata(item: &Item) -> Result<(TreeHash, Vec<(String, String)>)> {
        let tree_hash: TreeHash = item.tree_hash.parse().map_err(|e| {
            Error::Input(format!(
                "archive {}: inventory tree hash: {e}",
                item.archive_id
            ))
        })?;
        // An inventory without a CreationDate (optional in the service model): the object carries none.
        let creation_date = match item.creation_date.as_str() {
            "" => None,
            d => Some(OffsetDateTime::parse(d, &Rfc3339).map_err(|e| {
                Error::Input(format!(
                    "archive {}: creation date '{d}': {e}",
                    item.archive_id
                ))
            })?),
        };
        let meta = ArchiveMetadata {
            archive_id: item.archive_id.clone(),
            tree_hash,
            creation_date,
            description: item.description.as_bytes().to_vec(),
        };
        Ok((tree_hash, meta.to_headers()?))
    }

    /// Copies this run's manifest files (and failed-archives file) from `dir` to the
    /// bucket, each checked on the way: its tree hash taken before the upload must equal
    /// the one of the bytes streamed. With no failed-archives file the bucket's copy from
    /// an earlier run is deleted. A shard then rebuilds the bucket's merged manifest.
    pub fn upload_manifest(&self, dir: &Path, shard: Option<&Shard>) -> Result<()> {
        for base in [
            manifest::CSV_NAME,
            manifest::JSONL_NAME,
            manifest::FAILED_NAME,
        ] {
            let name = manifest::shard_name(base, shard);
            let path = dir.join(&name);
            if base == manifest::FAILED_NAME && !path.exists() {
                let key = self.target.manifest_key(&name);
                self.client.delete_object(&self.target.bucket, &key)?;
                continue;
            }
            self.upload_file(&path, &name)?;
        }
        match shard {
            Some(s) => self.merge_manifests(dir, s),
            None => Ok(()),
        }
    }

    /// Rebuilds the bucket's merged manifests from every shard manifest of `shard.n` it
    /// holds. Shards finish at any time, each with its own journal and no shared lock, so
    /// after writing the merged files this looks again: if any shard manifest changed
    /// (ETag) since it was read, it merges again. Whichever shard writes last then wrote
    /// what it saw after every earlier shard had uploaded its own manifest.
    fn merge_manifests(&self, dir: &Path, shard: &Shard) -> Result<()> {
        let keys: Vec<(String, String)> = (1..=shard.n)
            .flat_map(|k| {
                let s = Shard { k, n: shard.n };
                [manifest::CSV_NAME, manifest::JSONL_NAME]
                    .map(|b| (b.to_string(), manifest::shard_name(b, Some(&s))))
            })
            .collect();
        let etags = |_: ()| -> Result<Vec<Option<String>>> {
            keys.iter()
                .map(|(_, name)| {
                    let key = self.target.manifest_key(name);
                    Ok(self
                        .client
                        .head_object(&self.target.bucket, &key)?
                        .map(|h| h.etag.unwrap_or_default()))
                })
                .collect()
        };
        for _ in 0..MERGE_ROUNDS {
            let before = etags(())?;
            for base in [manifest::CSV_NAME, manifest::JSONL_NAME] {
                let tmp = dir.join(manifest::merged_tmp_name(base, shard));
                let f = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
                let mut out =
                    manifest::Merger::new(std::io::BufWriter::new(f), base == manifest::CSV_NAME);
                for ((b, name), etag) in keys.iter().zip(&before) {
                    if b != base || etag.is_none() {
                        continue;
                    }
                    out.next_file();
                    let key = self.target.manifest_key(name);
                    self.client
                        .get_object(&self.target.bucket, &key, &mut out)?;
                }
                out.header_if_empty().map_err(|e| Error::io(&tmp, e))?;
                let mut w = out.into_inner();
                w.flush().map_err(|e| Error::io(&tmp, e))?;
                drop(w);
                let merged = dir.join(base);
                std::fs::rename(&tmp, &merged).map_err(|e| Error::io(&merged, e))?;
                self.upload_file(&merged, base)?;
            }
            if etags(())? == before {
                return Ok(());
            }
        }
        Err(Error::Failed(format!(
            "{}: the shard manifests kept changing while the merged manifest was written; run the same command again to rebuild it",
            self.target
        )))
    }

    /// Uploads the file `path` as `PREFIX/.glacier-export/NAME`, checked by tree hash.
    fn upload_file(&self, path: &Path, name: &str) -> Result<()> {
        let before = hash_file(path)?;
        let size = std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .len();
        let spec = ObjectSpec {
            bucket: self.target.bucket.clone(),
            key: self.target.manifest_key(name),
            size,
            options: ObjectOptions {
                // Small and read by people and by purge: not worth an archive class.
                storage_class: StorageClass::Standard,
                metadata: Vec::new(),
            },
        };
        let mut w = MultipartWriter::new(
            Arc::clone(&self.client),
            spec,
            UploadOptions {
                threads: 2,
                part_size: self.part_size,
            },
        )?;
        let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut hasher = TreeHasher::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            w.write(&buf[..n])?;
        }
        let verified = Verified::tree_hash(&before, &hasher.finish())?;
        w.complete(verified)?;
        Ok(())
    }
}

/// How many times a shard rebuilds the bucket's merged manifest while other shards keep
/// changing theirs under it, before it gives up (each round is a few requests per shard).
const MERGE_ROUNDS: usize = 20;

/// An archive the bucket holds as exported and verified (see
/// [`S3Destination::exported_in_bucket`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedObject {
    /// The Glacier archive ID.
    pub archive_id: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its tree hash, lowercase hex.
    pub tree_hash: String,
    /// The object key.
    pub key: String,
}

impl S3Destination {
    /// The archives the bucket's manifest (`PREFIX/.glacier-export/...jsonl`) records as
    /// `exported` whose object is still there with the same archive ID, tree hash and
    /// size in its metadata (one HeadObject each): the seam for
    /// `vault purge --only-exported s3://BUCKET/PREFIX`, which must delete nothing the
    /// bucket does not hold. The manifest is held in memory while it is read (a few
    /// hundred bytes per archive: about 300 MB for a million archives; streaming it
    /// line by line is left to do).
    pub fn exported_in_bucket(
        &self,
        found: &mut dyn FnMut(ExportedObject) -> Result<()>,
    ) -> Result<()> {
        let key = self.target.manifest_key(manifest::JSONL_NAME);
        if self
            .client
            .head_object(&self.target.bucket, &key)?
            .is_none()
        {
            return Err(Error::Input(format!(
                "{}: no export manifest (s3://{}/{key} is missing); export the vault there with `{}` first",
                self.target,
                self.target.bucket,
                Action::ExportVault
            )));
        }
        let mut lines = Lines::default();
        self.client
            .get_object(&self.target.bucket, &key, &mut lines)?;
        if !lines.partial.is_empty() {
            lines.complete.push(std::mem::take(&mut lines.partial));
        }
        for (n, line) in lines.complete.iter().enumerate() {
            if line.is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_slice(line).map_err(|e| {
                Error::Input(format!(
                    "s3://{}/{key} line {}: {e}",
                    self.target.bucket,
                    n + 1
                ))
            })?;
            if v["status"] != "exported" {
                continue;
            }
            let (Some(id), Some(path), Some(size), Some(hash)) = (
                v["archive_id"].as_str(),
                v["path"].as_str(),
                v["size"].as_u64(),
                v["tree_hash"].as_str(),
            ) else {
                return Err(Error::Input(format!(
                    "s3://{}/{key} line {}: a field is missing",
                    self.target.bucket,
                    n + 1
                )));
            };
            let item = Item {
                archive_id: id.to_string(),
                name: path.to_string(),
                size,
                tree_hash: hash.to_ascii_lowercase(),
                creation_date: String::new(),
                description: String::new(),
                mtime: None,
            };
            if self.existing(&item)? == Some(true) {
                found(ExportedObject {
                    key: self.target.key(path),
                    archive_id: item.archive_id,
                    size,
                    tree_hash: item.tree_hash,
                })?;
            }
        }
        Ok(())
    }
}

/// Collects a body as lines.
#[derive(Default)]
struct Lines {
    complete: Vec<Vec<u8>>,
    partial: Vec<u8>,
}

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            if b == b'\n' {
                self.complete.push(std::mem::take(&mut self.partial));
            } else {
                self.partial.push(b);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn hash_file(path: &Path) -> Result<TreeHash> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = TreeHasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(hasher.finish());
        }
        hasher.update(&buf[..n]);
    }
}

impl Destination for S3Destination {
    fn describe(&self) -> String {
        self.target.to_string()
    }

    fn contains(&self, item: &Item) -> Result<bool> {
        // Asked before the archive's job is requested: an archive no S3 object can hold
        // is refused before anything is paid for it (none can be: Glacier's largest
        // archive is exactly the largest streamed object).
        if item.size > s3::MAX_STREAMED_OBJECT {
            return Err(Error::Input(format!(
                "archive {} ({}) is {} bytes, more than the {} bytes one S3 object is written in; nothing was requested for it",
                item.archive_id,
                item.name,
                item.size,
                s3::MAX_STREAMED_OBJECT
            )));
        }
        Ok(self.existing(item)? == Some(true))
    }

    fn store(
        &self,
        client: &Client,
        vault: &str,
        job: &JobDescription,
        item: &Item,
        threads: usize,
    ) -> Result<()> {
        let key = self.target.key(&item.name);
        match self.existing(item)? {
            Some(true) => return Ok(()),
            // Never replace an object that is not this archive: it may be another
            // archive's, or the user's.
            Some(false) => {
                return Err(Error::Input(format!(
                    "s3://{}/{key} exists and is not archive {}; move it away and run again",
                    self.target.bucket, item.archive_id
                )));
            }
            None => {}
        }
        let (expected, metadata) = Self::metadata(item)?;
        self.abort_stale_uploads(&key)?;
        let spec = ObjectSpec {
            bucket: self.target.bucket.clone(),
            key,
            size: item.size,
            options: ObjectOptions {
                storage_class: self.storage_class,
                metadata,
            },
        };
        let (output_size, job_hash) = download::expected_output(job)?;
        if output_size != item.size {
            return Err(Error::Mismatch {
                what: format!(
                    "archive {} ({}): size of job {}'s output; nothing sent to S3",
                    item.archive_id,
                    item.name,
                    job.id()?
                ),
                expected: item.size.to_string(),
                actual: output_size.to_string(),
            });
        }
        let ranges = GlacierRanges {
            client,
            vault,
            job_id: job.id()?,
            size: item.size,
            checked: Arc::new(Mutex::new(BTreeMap::new())),
            reporter: Arc::clone(&self.reporter),
            stop: self.stop.clone(),
        };
        let opts = StreamOptions {
            threads: threads.max(1),
            part_size: self.part_size,
            max_memory: self.max_memory,
        };
        let part_size = s3::streamed_part_size(item.size, self.part_size)?;
        // Asked for once every part is in: the ranges' hashes make the whole output's,
        // which must be the job's and the inventory's.
        let mut verify = || {
            let hashes: Vec<TreeHash> = ranges
                .checked
                .lock_unpoisoned()
                .iter()
                .filter(|(start, _)| *start % part_size == 0)
                .map(|(_, h)| *h)
                .collect();
            let whole = treehash::combine(&hashes).unwrap_or_else(|| treehash::tree_hash(&[]));
            let parts = item.size.div_ceil(part_size) as usize;
            let checked = if hashes.len() != parts {
                Err(Error::Mismatch {
                    what: "ranges checked".into(),
                    expected: parts.to_string(),
                    actual: hashes.len().to_string(),
                })
            } else if job_hash.is_some_and(|j| j != whole) {
                Err(Error::Mismatch {
                    what: "tree hash of the job's output".into(),
                    expected: job_hash.map(|j| j.to_hex()).unwrap_or_default(),
                    actual: whole.to_hex(),
                })
            } else {
                Verified::tree_hash(&expected, &whole)
            };
            checked.map_err(|e| Error::Mismatch {
                what: format!(
                    "archive {} ({}) against the inventory; nothing completed in S3",
                    item.archive_id, item.name
                ),
                expected: format!("{} bytes, tree hash {}", item.size, item.tree_hash),
                actual: format!(
                    "{} bytes, tree hash {} ({})",
                    output_size,
                    whole,
                    crate::error::chain(&e)
                ),
            })
        };
        s3::upload_streamed(&self.client, &spec, &opts, &ranges, &mut verify)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MapEnv;

    #[test]
    fn targets_parse_and_keys_are_under_the_prefix() {
        assert!(S3Target::parse("/tmp/dir").is_none());
        let t = S3Target::parse("s3://my-bucket/backups/2024")
            .expect("s3")
            .expect("valid");
        assert_eq!(t.prefix, "backups/2024/");
        assert_eq!(t.key("a/b.txt"), "backups/2024/a/b.txt");
        assert_eq!(
            t.manifest_key(manifest::CSV_NAME),
            "backups/2024/.glacier-export/glacier-export-manifest.csv"
        );
        let t = S3Target::parse("s3://my-bucket")
            .expect("s3")
            .expect("valid");
        assert_eq!((t.prefix.as_str(), t.key("x").as_str()), ("", "x"));
        assert_eq!(
            S3Target::parse("s3://my-bucket/").expect("s3").expect("ok"),
            t
        );
        for bad in ["s3://", "s3://UPPER/x", "s3://b-1/../x", "s3://b-1//x"] {
            assert!(
                matches!(S3Target::parse(bad), Some(Err(Error::Usage(_)))),
                "{bad}"
            );
        }
    }

    #[test]
    fn journal_dir_defaults_to_xdg_data_home_per_vault_and_prefix() {
        let t = S3Target::parse("s3://bkt/p").expect("s3").expect("ok");
        let mut env = MapEnv {
            home: Some(PathBuf::from("/home/u")),
            ..MapEnv::default()
        };
        let a = default_journal_dir(&env, "v", &t).expect("dir");
        assert!(
            a.starts_with("/home/u/.local/share/glacier-upload/export/bkt"),
            "{a:?}"
        );
        env.vars.insert("XDG_DATA_HOME".into(), "/data".into());
        let b = default_journal_dir(&env, "v", &t).expect("dir");
        assert!(b.starts_with("/data/glacier-upload/export/bkt"), "{b:?}");
        assert_eq!(a.file_name(), b.file_name());
        assert_ne!(
            default_journal_dir(&env, "w", &t).expect("dir"),
            b,
            "another vault, another journal"
        );
    }
}
