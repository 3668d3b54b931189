//! The crate's one error type.
//!
//! Every failure a user can cause ends here, as a value whose `Display` says what failed
//! at this layer and names what the user gave (a path, a vault, a flag), while `source()`
//! carries the cause. `main` prints the chain joined by ": " and exits with
//! [`Error::exit_code`]. This module formats; it never prints.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Exit code: the operation failed.
pub const EXIT_FAILURE: i32 = 1;
/// Exit code: the command line was wrong; nothing was done.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: a job is still in progress (scripts poll on it).
pub const EXIT_IN_PROGRESS: i32 = 3;
/// Exit code: interrupted by Ctrl-C (as a shell reports SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;
/// Exit code: stdout was closed by the reader (as a shell reports SIGPIPE).
pub const EXIT_BROKEN_PIPE: i32 = 141;

/// Everything that can go wrong.
///
/// Each variant names what the user gave (a path, vault or flag) and carries its cause in
/// `source()`; [`chain`] renders the whole chain on one line, as the CLI prints it. The
/// methods classify an error (transient, throttled, not found, needs the user) and map it
/// to the CLI's exit code.
///
/// ```
/// use std::io;
/// use glacier_upload::Error;
///
/// let usage = glacier_upload::glacier::check_vault_name("no spaces").unwrap_err();
/// assert!(matches!(usage, Error::Usage(_)));
/// assert_eq!(usage.exit_code(), 2);
///
/// let missing = Error::io("photos.tar", io::Error::from(io::ErrorKind::NotFound));
/// assert!(!missing.is_transient());
/// assert!(glacier_upload::error::chain(&missing).contains("photos.tar"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The command line is wrong (unknown command or flag, bad value, missing argument).
    Usage(String),
    /// Reading or writing a local file failed; `path` is what the user named (`-` for
    /// stdin or stdout).
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// An input the user gave is unusable for a reason found before anything was sent
    /// (empty file, too large, description with a bad character...).
    Input(String),
    /// Data did not verify: a hash or size we computed differs from the one we expected.
    Mismatch {
        /// What was compared, naming the file, part or job.
        what: String,
        /// The value we expected.
        expected: String,
        /// The value we found.
        actual: String,
    },
    /// The failure was already reported on stderr (for example one line per input that
    /// failed); only the exit code remains to be given.
    Reported,
    /// Standard output was closed early by its reader.
    BrokenPipe,
    /// No usable credentials, or a credential source failed (the message says which).
    Credentials(String),
    /// The configuration is unusable: no region, a bad endpoint, a plain-HTTP endpoint
    /// that is not loopback without `--allow-http`...
    Config(String),
    /// A config or credentials file is malformed.
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong there.
        message: String,
    },
    /// Glacier answered with an error.
    Service(Box<ServiceError>),
    /// A request got no usable answer (network down, timeout, TLS failure, dropped
    /// connection) after all retries.
    Transport {
        /// What was being done, e.g. `UploadMultipartPart on vault 'photos'`.
        what: String,
        /// The cause.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The operation could not go on for a reason found after requests were sent (an
    /// input that changed under a resumed upload...): exit 1, never 2, since something
    /// may have been done.
    Failed(String),
    /// A job cannot give what was asked: it failed, or it is of another kind.
    Job(String),
    /// A job is not finished yet (exit code 3, so scripts can poll).
    JobInProgress(String),
    /// Interrupted by the user (Ctrl-C); the message says how to resume.
    Interrupted(String),
    /// An error with advice appended (how to resume, what to try).
    WithHint {
        /// The error.
        error: Box<Error>,
        /// What the user can do about it.
        hint: String,
    },
}

/// An error response from Glacier, with everything needed to report or retry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// What was being done, naming the vault, job, upload or archive.
    pub context: String,
    /// HTTP status.
    pub status: u16,
    /// Glacier's error code, e.g. `ResourceNotFoundException` (empty if the body had none).
    pub code: String,
    /// Glacier's message.
    pub message: String,
    /// `x-amzn-RequestId`, if the response had one.
    pub request_id: Option<String>,
    /// A hint for the user (clock skew measured, try another tier...), if any.
    pub hint: Option<String>,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.context)?;
        if self.code.is_empty() {
            write!(f, "HTTP {}", self.status)?;
        } else {
            write!(f, "{} (HTTP {})", self.code, self.status)?;
        }
        if !self.message.is_empty() {
            // "…for details.; check the credentials" reads badly: drop the period when
            // more follows.
            let more = self.hint.is_some() || self.request_id.is_some();
            let msg = if more {
                self.message.trim_end_matches('.')
            } else {
                &self.message
            };
            write!(f, ": {msg}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "; {h}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request ID {id}]")?;
        }
        Ok(())
    }
}

/// Error codes AWS services use for "too many requests, slow down" (Glacier's "Error
/// Responses" page: `ThrottlingException`; S3's `SlowDown`; the SDKs' common list adds
/// the others). A code, not a status: Glacier throttles with 400. Glacier's
/// `LimitExceededException` and `PolicyEnforcedException` are not here: they also mean
/// limits that waiting does not lift (1,000 vaults, a retrieval policy), so only the
/// callers for which they mean "later" (InitiateJob pacing) treat them so.
pub const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
];

impl ServiceError {
    /// The service asked us to slow down (throttling, a retrieval policy or rate limit).
    pub fn is_throttled(&self) -> bool {
        self.status == 429 || THROTTLING_CODES.contains(&self.code.as_str())
    }

    /// 404: the vault, job, upload, archive or object is not there (or no longer).
    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }

    /// 5xx: the service failed; it may or may not have acted on the request.
    pub fn is_server_error(&self) -> bool {
        self.status >= 500
    }

    /// 408 or `RequestTimeout(Exception)`: the service gave up waiting for our body.
    pub fn is_request_timeout(&self) -> bool {
        self.status == 408 || self.code.starts_with("RequestTimeout")
    }

    /// Worth trying again later: throttling, a server fault, a request timeout.
    pub fn is_transient(&self) -> bool {
        self.is_throttled() || self.is_server_error() || self.is_request_timeout()
    }
}

/// What kind of network failure an [`Error::Transport`] was, as the AWS transport
/// found it from the HTTP library's error (not from its text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetworkFault {
    /// No connection was made (refused, unreachable, name not resolved, connect timeout):
    /// nothing reached the service, so sending again is always safe.
    Connect,
    /// The server's TLS certificate was refused: nothing reached the service, and
    /// trying again changes nothing until the trust is set up (a CA bundle).
    Certificate,
    /// The request was sent, then no usable answer came: a timeout, a dropped
    /// connection, a body cut short. The service may have acted.
    NoAnswer,
}

/// The `source` the AWS transport gives an [`Error::Transport`]: the HTTP library's
/// error with its [`NetworkFault`] kind. It reads (`Display`, `source()`) exactly as the
/// error it carries, so messages do not change.
#[derive(Debug)]
pub struct Fault {
    /// What kind of failure.
    pub kind: NetworkFault,
    /// The HTTP library's error.
    pub error: Box<dyn std::error::Error + Send + Sync>,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Fault {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

impl Error {
    /// The error beneath any [`Error::WithHint`] wrappers.
    pub fn root(&self) -> &Error {
        match self {
            Error::WithHint { error, .. } => error.root(),
            e => e,
        }
    }

    /// The service's error answer, if that is what this is (under any hints).
    pub fn service(&self) -> Option<&ServiceError> {
        match self.root() {
            Error::Service(s) => Some(s),
            _ => None,
        }
    }

    /// The service asked us to slow down.
    pub fn is_throttled(&self) -> bool {
        self.service().is_some_and(ServiceError::is_throttled)
    }

    /// The service answered 404: the thing asked about is not there.
    pub fn is_not_found(&self) -> bool {
        self.service().is_some_and(ServiceError::is_not_found)
    }

    /// Glacier's own 404, `ResourceNotFoundException` (API Reference, "Error
    /// Responses"): the vault, job or job output asked about does not exist (any more).
    /// S3 answers 404 with `NoSuchBucket`, `NoSuchKey` or `NoSuchUpload`, and with no body
    /// to a HEAD: none of those says a Glacier job's output is gone.
    pub fn is_glacier_not_found(&self) -> bool {
        self.service()
            .is_some_and(|s| s.is_not_found() && s.code == "ResourceNotFoundException")
    }

    /// The kind of network failure, when this is one the transport classified.
    pub fn network_fault(&self) -> Option<NetworkFault> {
        match self.root() {
            Error::Transport { source, .. } => source.downcast_ref::<Fault>().map(|f| f.kind),
            _ => None,
        }
    }

    /// The request was sent and may have been acted on, but no usable answer came back:
    /// a lost answer (dropped connection, timeout, truncated body) or a 5xx. A call that
    /// creates something must look for what it may have made before it is sent again.
    /// A connection never made, or a certificate refused, sent nothing.
    pub fn outcome_unknown(&self) -> bool {
        match self.root() {
            Error::Transport { .. } => !matches!(
                self.network_fault(),
                Some(NetworkFault::Connect | NetworkFault::Certificate)
            ),
            Error::Service(s) => s.is_server_error(),
            _ => false,
        }
    }

    /// A fault that a later attempt can get past without the user doing anything:
    /// throttling, 5xx, request timeouts, and network trouble (a dropped connection, a
    /// timeout, a body cut short). A long run keeps going through these. A refused
    /// certificate is not one.
    pub fn is_transient(&self) -> bool {
        match self.root() {
            Error::Transport { .. } => self.network_fault() != Some(NetworkFault::Certificate),
            Error::Service(s) => s.is_transient(),
            _ => false,
        }
    }

    /// Only the user can fix this (credentials, a missing vault, a full disk, a bad
    /// input or configuration): trying again changes nothing.
    pub fn needs_user(&self) -> bool {
        match self.root() {
            Error::Usage(_)
            | Error::Input(_)
            | Error::Credentials(_)
            | Error::Config(_)
            | Error::ConfigFile { .. } => true,
            Error::Io { .. } => true,
            Error::Transport { .. } => self.network_fault() == Some(NetworkFault::Certificate),
            Error::Service(s) => !s.is_transient() && !s.is_not_found(),
            _ => false,
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Turns an I/O error from a reader that carries a crate error inside (the packing
    /// stream does, naming the file at fault) back into that error; any other I/O error
    /// is attributed to `path`.
    pub fn from_io(e: io::Error, path: impl Into<PathBuf>) -> Self {
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            if let Some(Ok(err)) = e.into_inner().map(|inner| inner.downcast::<Error>()) {
                return *err;
            }
            return Error::io(path, io::Error::other("unknown error"));
        }
        Error::io(path, e)
    }

    /// The process exit code this error maps to.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            Error::Input(_) => EXIT_USAGE,
            Error::BrokenPipe => EXIT_BROKEN_PIPE,
            Error::Config(_) | Error::ConfigFile { .. } => EXIT_USAGE,
            Error::JobInProgress(_) => EXIT_IN_PROGRESS,
            Error::Interrupted(_) => EXIT_INTERRUPTED,
            Error::WithHint { error, .. } => error.exit_code(),
            _ => EXIT_FAILURE,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(msg) => f.write_str(msg),
            Error::Io { path, .. } => write!(f, "{}", path.display()),
            Error::Input(msg) => f.write_str(msg),
            Error::Mismatch {
                what,
                expected,
                actual,
            } => write!(f, "{what}: expected {expected}, got {actual}"),
            Error::Reported => f.write_str("failed (reported above)"),
            Error::BrokenPipe => f.write_str("standard output was closed"),
            Error::Credentials(msg) => write!(f, "credentials: {msg}"),
            Error::Config(msg) => f.write_str(msg),
            Error::ConfigFile {
                path,
                line,
                message,
            } => write!(f, "{}:{line}: {message}", path.display()),
            Error::Service(e) => e.fmt(f),
            Error::Transport { what, .. } => f.write_str(what),
            Error::Failed(msg) => f.write_str(msg),
            Error::Job(msg) => f.write_str(msg),
            Error::JobInProgress(msg) => f.write_str(msg),
            Error::Interrupted(msg) => f.write_str(msg),
            Error::WithHint { error, hint } => write!(f, "{}; {hint}", chain(error.as_ref())),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Transport { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// Shorthand used across the crate: the error is [`Error`] unless said otherwise.
///
/// ```
/// use glacier_upload::{Error, Result};
///
/// fn part_count(size: u64, part_size: u64) -> Result<u64> {
///     if part_size == 0 {
///         return Err(Error::Usage("--part-size must not be 0".into()));
///     }
///     Ok(size.div_ceil(part_size))
/// }
/// assert_eq!(part_count(5 << 20, 1 << 20)?, 5);
/// assert!(part_count(1, 0).is_err());
/// # Ok::<(), Error>(())
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Renders an error and its causes as one line: `outer: cause: cause`.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        // Some causes repeat their parent's text; don't print it twice.
        if !s.is_empty() && !out.ends_with(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

/// A setting the caller chose, as the library's messages name it. The library never
/// spells a flag: by default a setting reads as its option's name (`part_size`); a
/// program installs its own words once with [`name_settings`] (the `glacier` CLI names
/// its flags, `--part-size`).
///
/// ```
/// use glacier_upload::error::Setting;
/// assert_eq!(Setting::PartSize.to_string(), "part_size");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// The part size of a multipart upload.
    PartSize,
    /// The memory budget for parts in flight and packing.
    MaxMemory,
    /// The xz preset used when packing.
    XzLevel,
    /// Packing's compression (xz or none).
    Compression,
    /// An archive's description.
    Description,
    /// Starting an upload afresh instead of resuming one.
    NoResume,
    /// The ID of the upload to resume.
    UploadId,
    /// Replacing an existing output file.
    Force,
    /// The AWS region.
    Region,
    /// The Glacier endpoint.
    EndpointUrl,
    /// The S3 endpoint.
    S3EndpointUrl,
    /// The account ID in request paths.
    AccountId,
    /// The named profile.
    Profile,
    /// The S3 storage class of exported objects.
    StorageClass,
    /// An inventory's output format.
    Format,
    /// This run's shard of the vault.
    Shard,
    /// The creation-date window of a selection.
    CreatedRange,
    /// Where an export to S3 keeps its journal.
    Journal,
    /// The inventory file to work from.
    Inventory,
    /// The inventory job whose output to work from.
    InventoryJob,
    /// The pace of retrievals, in bytes per 24 hours.
    MaxBytesPerDay,
    /// The per-request timeout.
    Timeout,
    /// Permitting a plain-HTTP endpoint that is not loopback.
    AllowHttp,
    /// Deleting only what an export holds (an export directory or bucket).
    OnlyExported,
    /// Deleting a vault only once Glacier's inventory shows it empty.
    WhenEmpty,
}

impl Setting {
    /// The setting's name as the library's options call it.
    pub const fn option_name(self) -> &'static str {
        match self {
            Setting::PartSize => "part_size",
            Setting::MaxMemory => "max_memory",
            Setting::XzLevel => "xz_level",
            Setting::Compression => "compression",
            Setting::Description => "description",
            Setting::NoResume => "no_resume",
            Setting::UploadId => "upload_id",
            Setting::Force => "force",
            Setting::Region => "region",
            Setting::EndpointUrl => "endpoint_url",
            Setting::S3EndpointUrl => "s3_endpoint_url",
            Setting::AccountId => "account_id",
            Setting::Profile => "profile",
            Setting::StorageClass => "storage_class",
            Setting::Format => "format",
            Setting::Shard => "shard",
            Setting::CreatedRange => "created_after/created_before",
            Setting::Journal => "journal",
            Setting::Inventory => "inventory",
            Setting::InventoryJob => "inventory_job",
            Setting::MaxBytesPerDay => "max_bytes_per_day",
            Setting::Timeout => "timeout",
            Setting::AllowHttp => "allow_http",
            Setting::OnlyExported => "only_exported",
            Setting::WhenEmpty => "when_empty",
        }
    }
}

/// The program's words for settings, once installed.
static SETTING_NAMES: std::sync::OnceLock<fn(Setting) -> &'static str> = std::sync::OnceLock::new();

/// Installs the words every later message uses for a setting (the CLI: its flags). The
/// first call wins; call it before anything that may fail.
pub fn name_settings(words: fn(Setting) -> &'static str) {
    let _ = SETTING_NAMES.set(words);
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match SETTING_NAMES.get() {
            Some(words) => f.write_str(words(*self)),
            None => f.write_str(self.option_name()),
        }
    }
}

/// Something the library's advice tells the caller to do next (list the jobs, abort an
/// upload...), as its messages name it. Like [`Setting`], the library never spells a
/// command: by default an action reads as the Glacier operation it comes down to, or a
/// plain phrase (`ListMultipartUploads for vault photos`); a program installs its own
/// words once with [`name_actions`] (the `glacier` CLI names its commands, `glacier
/// uploads list photos`). A message keeps its own quoting around the action.
///
/// ```
/// use glacier_upload::error::Action;
/// let list = Action::ListUploads { vault: "photos" };
/// assert_eq!(list.to_string(), "ListMultipartUploads for vault photos");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action<'a> {
    /// Listing a vault's jobs, to see whether one was started (ListJobs).
    ListJobs {
        /// The vault.
        vault: &'a str,
    },
    /// Describing a job of another kind than the one asked for (DescribeJob).
    DescribeJob,
    /// Fetching an archive retrieval job's output (GetJobOutput).
    GetArchiveOutput,
    /// Fetching an inventory retrieval job's output (GetJobOutput).
    GetInventoryOutput,
    /// Listing a vault's multipart uploads, to see whether one was started
    /// (ListMultipartUploads).
    ListUploads {
        /// The vault.
        vault: &'a str,
    },
    /// Ending a multipart upload, its parts discarded (AbortMultipartUpload).
    AbortUpload {
        /// The vault.
        vault: &'a str,
        /// The upload's ID.
        upload_id: &'a str,
    },
    /// Deleting an archive (DeleteArchive).
    DeleteArchive,
    /// Exporting the vault's archives (the export workflow).
    ExportVault,
    /// Deleting a vault once Glacier's inventory shows it empty (DeleteVault, with
    /// [`Setting::WhenEmpty`]).
    DeleteVault {
        /// The vault.
        vault: &'a str,
    },
}

impl Action<'_> {
    /// The action in the library's own words: the Glacier operation, else a plain phrase.
    fn plain(self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::ListJobs { vault } => write!(f, "ListJobs for vault {vault}"),
            Action::DescribeJob => f.write_str("DescribeJob"),
            Action::GetArchiveOutput => f.write_str("GetJobOutput for an archive retrieval"),
            Action::GetInventoryOutput => f.write_str("GetJobOutput for an inventory retrieval"),
            Action::ListUploads { vault } => {
                write!(f, "ListMultipartUploads for vault {vault}")
            }
            Action::AbortUpload { vault, upload_id } => {
                write!(
                    f,
                    "AbortMultipartUpload for upload {upload_id} in vault {vault}"
                )
            }
            Action::DeleteArchive => f.write_str("DeleteArchive"),
            Action::ExportVault => f.write_str("an export"),
            Action::DeleteVault { vault } => {
                write!(
                    f,
                    "DeleteVault for vault {vault} with {}",
                    Setting::WhenEmpty
                )
            }
        }
    }
}

/// The program's words for actions, once installed.
static ACTION_WORDS: std::sync::OnceLock<fn(Action<'_>) -> String> = std::sync::OnceLock::new();

/// Installs the words every later message uses for an action (the CLI: its commands, with
/// their arguments). The first call wins; call it before anything that may fail.
pub fn name_actions(words: fn(Action<'_>) -> String) {
    let _ = ACTION_WORDS.set(words);
}

impl fmt::Display for Action<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ACTION_WORDS.get() {
            Some(words) => f.write_str(&words(*self)),
            None => self.plain(f),
        }
    }
}

/// One of each action, for tests of every program's words for them. The match fails to
/// compile when an action is added, so the list is looked at.
#[cfg(test)]
pub(crate) fn every_action() -> Vec<Action<'static>> {
    let all = vec![
        Action::ListJobs { vault: "v" },
        Action::DescribeJob,
        Action::GetArchiveOutput,
        Action::GetInventoryOutput,
        Action::ListUploads { vault: "v" },
        Action::AbortUpload {
            vault: "v",
            upload_id: "U",
        },
        Action::DeleteArchive,
        Action::ExportVault,
        Action::DeleteVault { vault: "v" },
    ];
    for a in &all {
        match a {
            Action::ListJobs { .. }
            | Action::DescribeJob
            | Action::GetArchiveOutput
            | Action::GetInventoryOutput
            | Action::ListUploads { .. }
            | Action::AbortUpload { .. }
            | Action::DeleteArchive
            | Action::ExportVault
            | Action::DeleteVault { .. } => {}
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A library user's messages name Glacier operations and options, never a command of
    /// the `glacier` CLI, whose words only `cli::main` installs.
    #[test]
    fn actions_read_as_operations_until_a_program_names_them() {
        assert!(ACTION_WORDS.get().is_none(), "no unit test installs words");
        assert!(SETTING_NAMES.get().is_none(), "no unit test installs words");
        let plain: Vec<String> = every_action().iter().map(|a| a.to_string()).collect();
        assert_eq!(
            plain,
            [
                "ListJobs for vault v",
                "DescribeJob",
                "GetJobOutput for an archive retrieval",
                "GetJobOutput for an inventory retrieval",
                "ListMultipartUploads for vault v",
                "AbortMultipartUpload for upload U in vault v",
                "DeleteArchive",
                "an export",
                "DeleteVault for vault v with when_empty",
            ]
        );
        for p in &plain {
            assert!(!p.contains("glacier") && !p.contains("--"), "{p}");
        }
    }

    fn svc(status: u16, code: &str) -> Error {
        Error::Service(Box::new(ServiceError {
            context: "DeleteArchive on vault 'v'".into(),
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
            hint: None,
        }))
    }

    #[test]
    fn classification_comes_from_status_and_code_under_any_hint() {
        let hinted = |e| Error::WithHint {
            error: Box::new(e),
            hint: "try later".into(),
        };
        assert!(svc(400, "ThrottlingException").is_throttled());
        assert!(svc(503, "SlowDown").is_throttled());
        assert!(hinted(svc(429, "")).is_throttled());
        assert!(!svc(400, "InvalidParameterValueException").is_throttled());
        assert!(hinted(svc(404, "ResourceNotFoundException")).is_not_found());
        // Only Glacier's 404 says a job's output is gone; S3's say nothing of it.
        assert!(hinted(svc(404, "ResourceNotFoundException")).is_glacier_not_found());
        for s3 in ["NoSuchBucket", "NoSuchUpload", "NoSuchKey", ""] {
            assert!(svc(404, s3).is_not_found() && !svc(404, s3).is_glacier_not_found());
        }
        assert!(!svc(404, "ResourceNotFoundException").is_transient());
        assert!(svc(500, "InternalError").outcome_unknown());
        assert!(!svc(400, "ThrottlingException").outcome_unknown());
        let dropped = Error::Transport {
            what: "InitiateJob on vault 'v'".into(),
            source: Box::new(io::Error::from(io::ErrorKind::ConnectionReset)),
        };
        assert!(hinted(dropped).outcome_unknown());
        assert!(svc(408, "RequestTimeoutException").is_transient());
        assert!(svc(403, "InvalidSignatureException").needs_user());
        assert!(!svc(503, "ServiceUnavailableException").needs_user());
        assert!(Error::Input("empty file".into()).needs_user());
    }

    #[test]
    fn network_faults_are_classified_by_kind_and_read_as_their_cause() {
        let fault = |kind| Error::Transport {
            what: "InitiateJob on vault 'v'".into(),
            source: Box::new(Fault {
                kind,
                error: Box::new(io::Error::other("connection refused")),
            }),
        };
        let refused = fault(NetworkFault::Connect);
        assert!(!refused.outcome_unknown());
        assert!(refused.is_transient());
        assert!(!refused.needs_user());
        let cert = fault(NetworkFault::Certificate);
        assert!(!cert.outcome_unknown());
        assert!(!cert.is_transient());
        assert!(cert.needs_user());
        let lost = fault(NetworkFault::NoAnswer);
        assert!(lost.outcome_unknown() && lost.is_transient() && !lost.needs_user());
        assert_eq!(lost.network_fault(), Some(NetworkFault::NoAnswer));
        assert_eq!(chain(&lost), "InitiateJob on vault 'v': connection refused");
        assert_eq!(svc(500, "").network_fault(), None);
    }

    #[test]
    fn chain_names_the_path_then_the_cause() {
        let e = Error::io(
            "/no/such",
            io::Error::new(io::ErrorKind::NotFound, "No such file"),
        );
        assert_eq!(chain(&e), "/no/such: No such file");
        assert_eq!(e.exit_code(), EXIT_FAILURE);
        assert_eq!(Error::Usage("x".into()).exit_code(), EXIT_USAGE);
    }
}
