//! `glacier upload [OPTIONS] VAULT FILE...`

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde_json::json;

use super::{Args, Global, Output, data_dir, flags, note};
use crate::config::ProcessEnv;
use crate::error::{Error, Result};
use crate::glacier::{Description, UploadId, check_vault_name};
use crate::pack;
use crate::progress::{Reporter, Totals, human_bytes};
use crate::sync::LockExt;
use crate::upload::{self, Events, Input, Options, plan};

/// `--threads` without the flag (shown by its help, checked in `flags`).
pub(super) const DEFAULT_THREADS: usize = 4;
/// `--max-memory` without the flag, in MiB.
pub(super) const DEFAULT_MAX_MEMORY_MIB: u64 = 512;

/// A parsed `upload` command.
#[derive(Debug)]
pub struct UploadCmd {
    vault: String,
    files: Vec<String>,
    description: Option<Description>,
    part_size: Option<u64>,
    threads: usize,
    max_memory: u64,
    upload_id: Option<UploadId>,
    receipts: Receipts,
    xz_level: u32,
    /// `--xz-level` was given (so the resume command repeats it).
    xz_level_given: bool,
    /// `--max-memory` was given.
    max_memory_given: bool,
    no_resume: bool,
    compression: pack::Compression,
}

#[derive(Debug)]
enum Receipts {
    Default,
    File(PathBuf),
    Off,
}

impl UploadCmd {
    pub(super) fn parse(mut args: Args) -> Result<UploadCmd> {
        let description = args.description(&flags::DESCRIPTION)?;
        let part_size = args
            .whole::<u64>(&flags::PART_SIZE)?
            .map(plan::part_size_from_mib)
            .transpose()?;
        let threads = args
            .whole::<usize>(&flags::UPLOAD_THREADS)?
            .unwrap_or(DEFAULT_THREADS);
        if threads == 0 || threads > 64 {
            return Err(Error::Usage(format!("--threads {threads}: use 1 to 64")));
        }
        let max_memory = args.whole::<u64>(&flags::MAX_MEMORY)?;
        let max_memory_given = max_memory.is_some();
        let max_memory = max_memory.unwrap_or(DEFAULT_MAX_MEMORY_MIB);
        if max_memory == 0 {
            return Err(Error::Usage("--max-memory must be at least 1 (MiB)".into()));
        }
        let upload_id = args
            .text(&flags::UPLOAD_ID)?
            .map(UploadId::new)
            .transpose()?;
        let xz_level = args.whole::<u32>(&flags::XZ_LEVEL)?;
        let xz_level_given = xz_level.is_some();
        let xz_level = xz_level.unwrap_or(pack::DEFAULT_XZ_LEVEL);
        let no_resume = args.switch(&flags::NO_RESUME);
        if xz_level > 9 {
            return Err(Error::Usage(format!("--xz-level {xz_level}: use 0 to 9")));
        }
        let compression = match args.choice(&flags::COMPRESSION)? {
            Some("none") => pack::Compression::None,
            _ => pack::Compression::Xz,
        };
        let receipts_file = args.path(&flags::RECEIPTS)?;
        let no_receipts = args.switch(&flags::NO_RECEIPTS);
        let receipts = match (receipts_file, no_receipts) {
            (Some(_), true) => {
                return Err(Error::Usage(
                    "--receipts and --no-receipts contradict each other".into(),
                ));
            }
            (Some(f), false) => Receipts::File(f),
            (None, true) => Receipts::Off,
            (None, false) => Receipts::Default,
        };
        let mut rest = args.positionals()?;
        if rest.is_empty() {
            return Err(Error::Usage(
                "upload: missing VAULT and FILE (usage: glacier upload [OPTIONS] VAULT FILE...)"
                    .into(),
            ));
        }
        let vault = rest.remove(0);
        check_vault_name(&vault)?;
        if rest.is_empty() {
            return Err(Error::Usage(format!(
                "upload: missing FILE to upload to vault '{vault}' ('-' reads standard input)"
            )));
        }
        Ok(UploadCmd {
            vault,
            files: rest,
            description,
            part_size,
            threads,
            max_memory: max_memory << 20,
            upload_id,
            receipts,
            xz_level,
            xz_level_given,
            max_memory_given,
            no_resume,
            compression,
        })
    }

    /// The command that resumes this upload, quoted for a POSIX shell. It repeats every
    /// flag that shapes the archive or says where it goes, so pasting it into another
    /// shell (another profile, no `AWS_REGION`) reaches the same upload with the same
    /// bytes.
    fn resume_command(&self, global: &Global, id: &UploadId, part_size: u64) -> String {
        let mut words = vec!["glacier".to_string(), "upload".into()];
        let s = &global.settings;
        for (flag, value) in [
            ("--region", &s.region),
            ("--profile", &s.profile),
            ("--endpoint-url", &s.endpoint_url),
            ("--account-id", &s.account_id),
        ] {
            if let Some(v) = value {
                words.extend([flag.to_string(), v.clone()]);
            }
        }
        if s.allow_http {
            words.push("--allow-http".into());
        }
        words.extend(["--upload-id".into(), id.to_string()]);
        // Only the user's own --part-size is repeated: the resumed upload supplies its
        // own, and a repeated automatic one would count as the user's (and be refused
        // when it exceeds --max-memory, where the automatic one sends one part at a time).
        if self.part_size.is_some() {
            words.extend(["--part-size".into(), (part_size >> 20).to_string()]);
        }
        if let Some(d) = &self.description {
            words.extend(["--description".into(), d.to_string()]);
        }
        if self.compression == pack::Compression::None {
            words.extend(["--compression".into(), "none".into()]);
        }
        if self.xz_level_given {
            words.extend(["--xz-level".into(), self.xz_level.to_string()]);
        }
        if self.max_memory_given {
            words.extend(["--max-memory".into(), (self.max_memory >> 20).to_string()]);
        }
        match &self.receipts {
            Receipts::Default => {}
            Receipts::File(f) => {
                words.extend(["--receipts".into(), f.to_string_lossy().into_owned()]);
            }
            Receipts::Off => words.push("--no-receipts".into()),
        }
        words.extend(["--".into(), self.vault.clone()]);
        words.extend(self.files.iter().cloned());
        words
            .iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub(super) fn run(self, global: &Global, out: &mut Output) -> Result<()> {
        let (input, default_description, total, packer_memory) = self.open_input()?;
        let description = match self.description.clone() {
            Some(d) => d,
            // A packed input's summary is built from file names: checked like a given one.
            None => Description::new(default_description)?,
        };
        let client = global.client()?;
        let resolved = crate::config::resolve(&global.settings, &ProcessEnv)?;
        // The account is often `-` (the caller's own): the profile tells two of them
        // apart where the account ID cannot.
        let origin = format!(
            "{} {} {} profile {}",
            resolved.endpoint.url, resolved.account_id, resolved.region, resolved.profile.name
        );
        let data = data_dir(&ProcessEnv);
        let receipts_path = match &self.receipts {
            Receipts::Off => None,
            Receipts::File(f) => Some(f.clone()),
            Receipts::Default => data.as_ref().map(|d| d.join("receipts.jsonl")),
        };

        let stop = Arc::new(AtomicBool::new(false));
        crate::signals::install(&stop)?;
        let display = Arc::new(global.display());
        display.begin(
            "upload",
            Totals {
                bytes: total,
                items: None,
            },
        );
        let opts = Options {
            vault: self.vault.clone(),
            description: description.clone(),
            part_size: self.part_size,
            part_size_given: self.part_size.is_some(),
            threads: self.threads,
            // The packer's share was set aside when it was fitted beside the parts.
            max_memory: self.max_memory.saturating_sub(packer_memory),
            upload_id: self.upload_id.clone(),
            stop: Arc::clone(&stop),
            reporter: Arc::clone(&display) as Arc<dyn Reporter>,
            state_dir: data.map(|d| d.join("uploads")),
            origin,
            auto_resume: !self.no_resume,
        };
        let events = CliEvents {
            cmd: &self,
            global,
            started: std::sync::Mutex::new(None),
        };
        let state_dir = opts.state_dir.clone();
        let result = upload::upload(&client, input, &opts, &events);
        display.finish();
        let outcome = match result {
            Ok(o) => o,
            Err(e) => {
                let started = events.started.lock_unpoisoned().clone();
                return Err(match started {
                    Some((id, part_size)) => Error::WithHint {
                        error: Box::new(e),
                        hint: format!(
                            "upload ID {id} is kept; resume with: {}",
                            self.resume_command(global, &id, part_size)
                        ),
                    },
                    None => e,
                });
            }
        };

        let record = json!({
            "archive_id": outcome.archive.archive_id.as_str(),
            "vault": self.vault,
            "size": outcome.size,
            "tree_hash": outcome.archive.tree_hash.to_hex(),
            "description": description.as_str(),
            "location": outcome.archive.location,
            "upload_id": outcome.upload_id.as_ref().map(|u| u.as_str()),
        });
        if let Some(path) = &receipts_path {
            let mut receipt = record.clone();
            receipt["time"] = json!(
                time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default()
            );
            receipt["inputs"] = json!(self.files);
            upload::state::append_receipt(path, &receipt).map_err(|e| Error::WithHint {
                error: Box::new(e),
                hint: format!(
                    "the archive WAS uploaded: archive ID {}",
                    outcome.archive.archive_id
                ),
            })?;
        }
        // Only now, with the ID on disk, may the resume state go: a crash before this
        // point finds the upload again and completes it once more.
        if let (Some(dir), Some(id)) = (&state_dir, &outcome.upload_id) {
            upload::state::remove(dir, id);
        }
        if outcome.parts_reused > 0 {
            note(
                global,
                &format!(
                    "resumed: {} parts were already on Glacier and matched, {} uploaded",
                    outcome.parts_reused, outcome.parts_uploaded
                ),
            );
        }
        note(
            global,
            &format!(
                "uploaded {} ({} bytes) to vault '{}', tree hash {}, archive ID {}",
                human_bytes(outcome.size),
                outcome.size,
                self.vault,
                outcome.archive.tree_hash,
                outcome.archive.archive_id
            ),
        );
        if global.json {
            out.json(&record)?;
        } else {
            out.line(outcome.archive.archive_id.as_str())?;
        }
        out.flush()?;
        let held = crate::signals::held();
        if held > 0 {
            note(
                global,
                &format!(
                    "{held} signal(s) arrived while the archive was being created; they were held until its ID was recorded"
                ),
            );
        }
        Ok(())
    }

    /// Opens the input and checks what can be checked before anything is sent. Returns
    /// the input, the default description, the size if known, and the memory the packer
    /// holds (0 when nothing is packed).
    fn open_input(&self) -> Result<(Input, String, Option<u64>, u64)> {
        if self.files.len() == 1 && self.files[0] == "-" {
            let reader: Box<dyn std::io::Read + Send> = Box::new(std::io::stdin());
            return Ok((
                Input::Stream {
                    label: "standard input".into(),
                    reader,
                    size_hint: None,
                    fingerprint: None,
                },
                "standard input".into(),
                None,
                0,
            ));
        }
        if self.files.iter().any(|f| f == "-") {
            return Err(Error::Usage(
                "'-' (standard input) cannot be packed with other FILEs".into(),
            ));
        }
        if self.files.len() == 1 {
            let path = PathBuf::from(&self.files[0]);
            if let Some((input, len)) = upload::file_input(&path)? {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| self.files[0].clone());
                return Ok((
                    input,
                    Description::from_name(&name).into_string(),
                    Some(len),
                    0,
                ));
            }
        }
        self.packed_input()
    }

    /// Several FILEs or a directory: scanned now (so unreadable files stop us before
    /// anything is sent), packed as a deterministic `.tar.xz` stream while uploading.
    fn packed_input(&self) -> Result<(Input, String, Option<u64>, u64)> {
        let inputs: Vec<PathBuf> = self.files.iter().map(PathBuf::from).collect();
        let opts = pack::Options {
            compression: self.compression,
            xz_level: self.xz_level,
            threads: super::default_threads() as u32,
            single_threaded: false,
        };
        opts.validate()?;
        let plan = pack::Plan::scan(&inputs).map_err(|e| match e {
            // Found before anything is sent: a usage-class error (exit 2).
            Error::Io { path, source } => Error::Input(format!("{}: {source}", path.display())),
            e => e,
        })?;
        let bound = plan.size_bound(&opts);
        // --max-memory covers the part buffers and the encoder: the parts take what the
        // upload will hold, the encoder fits in the rest (fewer parts when it cannot).
        let part_size = self
            .part_size
            .unwrap_or_else(|| plan::default_part_size(bound));
        let parts = plan::threads_for_memory(
            self.threads,
            part_size,
            self.max_memory,
            self.part_size.is_some(),
        )?;
        let budget = pack::fit_beside_parts(opts, parts, part_size, self.max_memory)?;
        let opts = budget.options;
        let fingerprint = plan.fingerprint(&opts);
        let summary = plan.default_description(&opts);
        let label = format!(
            "packed .{} of {}",
            opts.compression.extension(),
            self.files.join(", ")
        );
        let reader = pack::reader(plan, &opts, None)?;
        Ok((
            Input::Stream {
                label,
                reader: Box::new(reader),
                size_hint: Some(bound),
                fingerprint: Some(fingerprint),
            },
            summary,
            None,
            budget.packer_memory(),
        ))
    }
}

/// Reports upload events on stderr.
struct CliEvents<'a> {
    cmd: &'a UploadCmd,
    global: &'a Global,
    /// The upload ID and part size, once known.
    started: std::sync::Mutex<Option<(UploadId, u64)>>,
}

impl Events for CliEvents<'_> {
    fn upload_started(&self, upload_id: &UploadId, part_size: u64, parts: Option<u64>) {
        *self.started.lock_unpoisoned() = Some((upload_id.clone(), part_size));
        let parts = parts.map(|p| format!("{p} parts of ")).unwrap_or_default();
        note(
            self.global,
            &format!(
                "multipart upload ID {upload_id} ({parts}{} MiB); if interrupted, resume with: {}",
                part_size >> 20,
                self.cmd.resume_command(self.global, upload_id, part_size)
            ),
        );
    }

    fn note(&self, msg: &str) {
        note(self.global, msg);
    }

    fn completing(&self) {
        // From here a signal could leave an archive whose ID nobody recorded: hold them
        // until the receipt is written and the ID printed.
        crate::signals::hold_until_exit();
    }

    fn not_completing(&self) {
        crate::signals::release();
    }
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_quote(w: &str) -> String {
    let plain = !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a/b.txt"), "a/b.txt");
        assert_eq!(shell_quote("my file"), "'my file'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
