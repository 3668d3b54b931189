//! `glacier upload [OPTIONS] VAULT FILE...`

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::{Args, Global, Output, data_dir, flags, note};
use crate::config::ProcessEnv;
use crate::error::{Error, Result};
use crate::glacier::{Description, UploadId, check_vault_name};
use crate::pack;
use crate::progress::{Reporter, human_bytes};
use crate::upload::{self, Receipts, ResumeCommand, Source, plan};
use crate::workflow::Ctx;

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
    /// `--threads` was given (so the resume command repeats it).
    threads_given: bool,
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

impl UploadCmd {
    pub(super) fn parse(mut args: Args) -> Result<UploadCmd> {
        let description = args.description(&flags::DESCRIPTION)?;
        let part_size = args
            .whole::<u64>(&flags::PART_SIZE)?
            .map(plan::part_size_from_mib)
            .transpose()?;
        let threads = args.whole::<usize>(&flags::UPLOAD_THREADS)?;
        let threads_given = threads.is_some();
        let threads = threads.unwrap_or(DEFAULT_THREADS);
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
            threads_given,
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

    /// The workflow's options. The origin is resolved later, once the input is open.
    fn options(&self, global: &Global) -> upload::Options {
        upload::Options {
            vault: self.vault.clone(),
            description: self.description.clone(),
            part_size: self.part_size,
            threads: self.threads,
            max_memory: self.max_memory,
            upload_id: self.upload_id.clone(),
            auto_resume: !self.no_resume,
            origin: String::new(),
            compression: self.compression,
            xz_level: self.xz_level,
            pack_threads: super::default_threads() as u32,
            receipts: self.receipts.clone(),
            resume_command: Some(self.resume_command(global)),
            clock: time::OffsetDateTime::now_utc,
        }
    }

    /// What to upload: standard input (`-` alone) or the FILEs.
    fn source(&self) -> Result<Source> {
        if self.files.len() == 1 && self.files[0] == "-" {
            return Ok(Source::Stream {
                label: "standard input".into(),
                reader: Box::new(std::io::stdin()),
            });
        }
        if self.files.iter().any(|f| f == "-") {
            return Err(Error::Usage(
                "'-' (standard input) cannot be packed with other FILEs".into(),
            ));
        }
        Ok(Source::Paths(
            self.files.iter().map(PathBuf::from).collect(),
        ))
    }

    /// The command that resumes an upload, quoted for a POSIX shell. It repeats every
    /// flag that shapes the archive, says where it goes or plans how it is sent, so
    /// pasting it into another shell (another profile, no `AWS_REGION`) reaches the same
    /// upload with the same bytes, the same parts in flight and the same pace.
    fn resume_command(&self, global: &Global) -> ResumeCommand {
        let mut head = vec!["glacier".to_string(), "upload".into()];
        let s = &global.settings;
        for (flag, value) in [
            ("--region", &s.region),
            ("--profile", &s.profile),
            ("--endpoint-url", &s.endpoint_url),
            ("--account-id", &s.account_id),
        ] {
            if let Some(v) = value {
                head.extend([flag.to_string(), v.clone()]);
            }
        }
        if s.allow_http {
            head.push("--allow-http".into());
        }
        let mut tail = Vec::new();
        if let Some(d) = &self.description {
            tail.extend(["--description".into(), d.to_string()]);
        }
        if self.compression == pack::Compression::None {
            tail.extend(["--compression".into(), "none".into()]);
        }
        if self.xz_level_given {
            tail.extend(["--xz-level".into(), self.xz_level.to_string()]);
        }
        if self.threads_given {
            tail.extend(["--threads".into(), self.threads.to_string()]);
        }
        if self.max_memory_given {
            tail.extend(["--max-memory".into(), (self.max_memory >> 20).to_string()]);
        }
        if let Some(limit) = &global.limit_rate {
            tail.extend(["--limit-rate".into(), limit.rate().to_string()]);
        }
        match &self.receipts {
            Receipts::Default => {}
            Receipts::File(f) => {
                tail.extend(["--receipts".into(), f.to_string_lossy().into_owned()]);
            }
            Receipts::Off => tail.push("--no-receipts".into()),
        }
        tail.extend(["--".into(), self.vault.clone()]);
        tail.extend(self.files.iter().cloned());
        let own_part_size = self.part_size.is_some();
        ResumeCommand(Arc::new(move |id: &UploadId, part_size: u64| {
            let mut words = head.clone();
            words.extend(["--upload-id".into(), id.to_string()]);
            // Only the user's own --part-size is repeated: the resumed upload supplies
            // its own, and a repeated automatic one would count as the user's (and be
            // refused when it exceeds --max-memory, where the automatic one sends one
            // part at a time).
            if own_part_size {
                words.extend(["--part-size".into(), (part_size >> 20).to_string()]);
            }
            words.extend(tail.iter().cloned());
            words
                .iter()
                .map(|w| shell_quote(w))
                .collect::<Vec<_>>()
                .join(" ")
        }))
    }

    pub(super) fn run(self, global: &Global, out: &mut Output) -> Result<()> {
        let mut opts = self.options(global);
        let opened = upload::open(&opts, self.source()?)?;
        let client = global.client()?;
        let resolved = crate::config::resolve(&global.settings, &ProcessEnv)?;
        // The account is often `-` (the caller's own): the profile tells two of them
        // apart where the account ID cannot.
        opts.origin = format!(
            "{} {} {} profile {}",
            resolved.endpoint.url, resolved.account_id, resolved.region, resolved.profile.name
        );
        let data = data_dir(&ProcessEnv);
        let stop = Arc::new(AtomicBool::new(false));
        let display = Arc::new(global.display());
        // The pool sends no new part once the flag is set; if the parts in flight were
        // the last, nothing is left undone and the archive is completed. Signals are held
        // while it is being created (`crate::signals::hold_until_exit`).
        super::stop_on_signal(
            &stop,
            &display,
            "no new part starts; parts in flight finish, then the upload stops with the command that resumes it, or completes the archive if they were the last (interrupt again to quit at once, except while the archive is being created)",
        )?;
        let ctx = Ctx {
            glacier: &client,
            data_dir: data.as_deref(),
            stop: &stop,
        };
        let reporter: Arc<dyn Reporter> = display.clone();
        let result = upload::run(&ctx, &opts, opened, &reporter);
        display.finish();
        let report = result.map_err(|u| match (u.resumable, &opts.resume_command) {
            (Some(r), Some(command)) => Error::WithHint {
                error: Box::new(u.error),
                hint: format!(
                    "upload ID {} is kept; resume with: {}",
                    r.upload_id,
                    (command.0)(&r.upload_id, r.part_size)
                ),
            },
            _ => u.error,
        })?;
        self.print(global, out, &report)
    }

    /// The archive ID (or its JSON record) on stdout, what was done on stderr.
    fn print(&self, global: &Global, out: &mut Output, report: &upload::Report) -> Result<()> {
        if report.parts_reused > 0 {
            note(
                global,
                &format!(
                    "resumed: {} parts were already on Glacier and matched, {} uploaded",
                    report.parts_reused, report.parts_uploaded
                ),
            );
        }
        note(
            global,
            &format!(
                "uploaded {} ({} bytes) to vault '{}', tree hash {}, archive ID {}",
                human_bytes(report.size),
                report.size,
                self.vault,
                report.archive.tree_hash,
                report.archive.archive_id
            ),
        );
        if global.json {
            out.json(&report.record())?;
        } else {
            out.line(report.archive.archive_id.as_str())?;
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

    /// The command an upload prints to resume with, for this command line.
    fn resume_line(argv: &[&str]) -> String {
        let argv = argv.iter().map(std::ffi::OsString::from).collect();
        let (global, cmd) = crate::cli::parse(argv).expect("parses");
        let super::super::Command::Upload(cmd) = cmd else {
            panic!("not an upload: {cmd:?}");
        };
        let id = UploadId::new("UPLOAD_ID").expect("an ID");
        (cmd.resume_command(&global).0)(&id, 2 << 20)
    }

    #[test]
    fn the_resume_command_repeats_the_flags_that_plan_the_run() {
        assert_eq!(
            resume_line(&["upload", "v", "a.bin"]),
            "glacier upload --upload-id UPLOAD_ID -- v a.bin"
        );
        // --threads and --limit-rate decide how the parts go: a resume without them
        // would send more at once, or faster, than the user asked.
        assert_eq!(
            resume_line(&[
                "upload",
                "-t",
                "2",
                "-p",
                "2",
                "--limit-rate",
                "1M",
                "--max-memory",
                "64",
                "v",
                "my file",
            ]),
            "glacier upload --upload-id UPLOAD_ID --part-size 2 --threads 2 --max-memory 64 --limit-rate 1048576 -- v 'my file'"
        );
        // The rate goes back in bytes per second, which the parser takes as it is.
        assert_eq!(
            resume_line(&["upload", "--limit-rate", "1048576", "v", "a"]),
            "glacier upload --upload-id UPLOAD_ID --limit-rate 1048576 -- v a"
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a/b.txt"), "a/b.txt");
        assert_eq!(shell_quote("my file"), "'my file'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
