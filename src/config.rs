//! Region, endpoint, account and profile configuration, resolved the way AWS tools do.
//!
//! This module owns reading the shared config and credentials files (`~/.aws/config`,
//! `~/.aws/credentials`), choosing the profile, and settling the region, the endpoint, the
//! account ID and the CA bundle from command-line flags, the environment and the profile,
//! in the precedence the AWS CLI documents ("Configuration and credential file settings"
//! and "Environment variables to configure the AWS CLI" in the AWS CLI User Guide). The
//! environment comes in through [`Env`] so tests never read the real one. It does not pick
//! credentials (that is [`crate::credentials`]), never opens a connection and never prints.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Environment lookup, injectable so tests never read the real environment.
pub trait Env {
    /// The value of environment variable `name`, if set and valid Unicode.
    fn var(&self, name: &str) -> Option<String>;
    /// The user's home directory, where `~/.aws/` lives.
    fn home(&self) -> Option<PathBuf>;
}

/// The real process environment (`std::env`; the home directory from `HOME`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn home(&self) -> Option<PathBuf> {
        // HOME on Unix; USERPROFILE is where Windows keeps it (the AWS CLI looks there too).
        ["HOME", "USERPROFILE"]
            .iter()
            .filter_map(std::env::var_os)
            .find(|v| !v.is_empty())
            .map(PathBuf::from)
    }
}

/// A fixed environment for tests.
#[derive(Debug, Clone, Default)]
pub struct MapEnv {
    /// The variables.
    pub vars: HashMap<String, String>,
    /// The home directory.
    pub home: Option<PathBuf>,
}

impl MapEnv {
    /// An empty environment: no variables, no home directory.
    pub fn new() -> MapEnv {
        MapEnv::default()
    }

    /// Adds (or replaces) a variable.
    pub fn with(mut self, name: &str, value: &str) -> MapEnv {
        self.vars.insert(name.to_string(), value.to_string());
        self
    }

    /// Sets the home directory.
    pub fn with_home(mut self, home: impl Into<PathBuf>) -> MapEnv {
        self.home = Some(home.into());
        self
    }
}

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn home(&self) -> Option<PathBuf> {
        self.home.clone()
    }
}

/// A variable's value, with an empty one counting as unset (as `AWS_REGION=` in a shell
/// script usually means "no region", not "the region named ''").
pub(crate) fn env_var(env: &dyn Env, name: &str) -> Option<String> {
    env.var(name).filter(|v| !v.trim().is_empty())
}

/// One `[section]` of an INI file: its settings in file order.
///
/// `Debug` shows the keys only: a credentials file's values are secrets.
#[derive(Clone, Default)]
pub struct Section {
    entries: Vec<(String, String)>,
}

impl Section {
    /// The value of `key` (exact, case-sensitive match), if set and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The keys, in file order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    fn set(&mut self, key: String, value: String) {
        // A repeated key: the later line wins, as in the AWS SDKs' profile parser.
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
    }
}

impl fmt::Debug for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.keys()).finish()
    }
}

/// An AWS INI file (`~/.aws/config` or `~/.aws/credentials`): sections of `key = value`.
#[derive(Clone, Debug)]
pub struct IniFile {
    path: PathBuf,
    sections: Vec<(String, Section)>,
}

impl IniFile {
    /// Parses the text of the file at `path` (the path is only used in errors).
    ///
    /// The format is the AWS shared-config one ("Configuration and credential file
    /// settings", AWS CLI User Guide): `[section]` headers, `key = value` lines, `#` or
    /// `;` comment lines, blank lines, and indented continuation lines after a setting
    /// (used for nested settings such as `s3 =`), which are appended to its value one per
    /// line. A repeated section is merged into the first. Errors name the line but never
    /// quote it, since it may hold a secret.
    pub fn parse(text: &str, path: &Path) -> Result<IniFile> {
        let mut sections: Vec<(String, Section)> = Vec::new();
        // Index into `sections` of the current one, and the key of the last setting seen
        // in it (the one a continuation line belongs to).
        let mut current: Option<usize> = None;
        let mut last_key: Option<String> = None;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let err = |message: &str| Error::ConfigFile {
                path: path.to_path_buf(),
                line: line_no,
                message: message.to_string(),
            };
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            // An indented line continues the setting above it (Python's configparser,
            // which the AWS CLI uses, reads it so); with no setting above, it is read as
            // an ordinary line.
            if let (true, Some(idx), Some(key)) =
                (line.starts_with([' ', '\t']), current, last_key.as_ref())
            {
                let section = &mut sections[idx].1;
                let mut value = section
                    .entries
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                value.push('\n');
                value.push_str(trimmed);
                section.set(key.clone(), value);
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                let Some(close) = rest.find(']') else {
                    return Err(err("section header without a closing ']'"));
                };
                let after = rest[close + 1..].trim();
                if !(after.is_empty() || after.starts_with('#') || after.starts_with(';')) {
                    return Err(err("unexpected text after a section header"));
                }
                let name = rest[..close].trim();
                if name.is_empty() {
                    return Err(err("empty section name"));
                }
                let idx = match sections.iter().position(|(n, _)| n == name) {
                    Some(idx) => idx,
                    None => {
                        sections.push((name.to_string(), Section::default()));
                        sections.len() - 1
                    }
                };
                current = Some(idx);
                last_key = None;
                continue;
            }
            let Some((key, value)) = trimmed.split_once('=') else {
                return Err(err(
                    "expected 'key = value', a [section] header or a comment",
                ));
            };
            let key = key.trim();
            if key.is_empty() {
                return Err(err("setting without a name before '='"));
            }
            let Some(idx) = current else {
                return Err(err("setting before any [section] header"));
            };
            sections[idx]
                .1
                .set(key.to_string(), value.trim().to_string());
            last_key = Some(key.to_string());
        }
        Ok(IniFile {
            path: path.to_path_buf(),
            sections,
        })
    }

    /// Reads and parses the file at `path`; `Ok(None)` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<IniFile>> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        let text = String::from_utf8(bytes).map_err(|e| {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            Error::ConfigFile {
                path: path.to_path_buf(),
                line: 1 + good.iter().filter(|&&b| b == b'\n').count(),
                message: "not valid UTF-8".to_string(),
            }
        })?;
        IniFile::parse(&text, path).map(Some)
    }

    /// The section named exactly `name`, e.g. `default` or `profile work`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }

    /// The section names, in file order.
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|(n, _)| n.as_str())
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The config file's section for profile `name`: `[profile NAME]`, or for `default`
    /// `[profile default]` before `[default]` (as the AWS SDKs prefer the prefixed form).
    /// Sections without the `profile` prefix are not profiles in the config file.
    fn config_profile(&self, name: &str) -> Option<&Section> {
        let prefixed = self.sections.iter().find(|(n, _)| {
            n.strip_prefix("profile")
                .filter(|rest| rest.starts_with([' ', '\t']))
                .is_some_and(|rest| rest.trim() == name)
        });
        match prefixed {
            Some((_, s)) => Some(s),
            None if name == "default" => self.section("default"),
            None => None,
        }
    }
}

/// What the command line asked for (flags; `None` when not given).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `--region`.
    pub region: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--endpoint-url`.
    pub endpoint_url: Option<String>,
    /// `--account-id`.
    pub account_id: Option<String>,
    /// `--allow-http`: permit a plain-HTTP endpoint that is not loopback.
    pub allow_http: bool,
}

/// One profile's merged settings from the config file (`[profile NAME]` / `[default]`)
/// and the credentials file (`[NAME]`); the credentials file wins where both set a key.
///
/// `Debug` shows the keys only, never the values.
#[derive(Clone)]
pub struct Profile {
    /// The profile's name (`default` unless one was named).
    pub name: String,
    /// Whether it was named by `--profile` or `AWS_PROFILE` (rather than the default).
    pub explicit: bool,
    config: Option<Section>,
    credentials: Option<Section>,
    config_file: Option<PathBuf>,
    credentials_file: Option<PathBuf>,
}

impl Profile {
    /// A profile with no settings and no files (for callers and tests that skip files).
    pub fn new(name: &str, explicit: bool) -> Profile {
        Profile {
            name: name.to_string(),
            explicit,
            config: None,
            credentials: None,
            config_file: None,
            credentials_file: None,
        }
    }

    /// The value of `key`: from the credentials file, else the config file.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.origin_and_value(key).map(|(_, v)| v)
    }

    /// The file the value of `key` comes from.
    pub fn origin(&self, key: &str) -> Option<&Path> {
        self.origin_and_value(key).and_then(|(p, _)| p)
    }

    fn origin_and_value(&self, key: &str) -> Option<(Option<&Path>, &str)> {
        if let Some(v) = self.credentials.as_ref().and_then(|s| s.get(key)) {
            return Some((self.credentials_file.as_deref(), v));
        }
        self.config
            .as_ref()
            .and_then(|s| s.get(key))
            .map(|v| (self.config_file.as_deref(), v))
    }

    /// Whether either file has a section for this profile.
    pub fn exists(&self) -> bool {
        self.config.is_some() || self.credentials.is_some()
    }

    /// The config file consulted (`AWS_CONFIG_FILE` or `~/.aws/config`), if known.
    pub fn config_file(&self) -> Option<&Path> {
        self.config_file.as_deref()
    }

    /// The credentials file consulted (`AWS_SHARED_CREDENTIALS_FILE` or
    /// `~/.aws/credentials`), if known.
    pub fn credentials_file(&self) -> Option<&Path> {
        self.credentials_file.as_deref()
    }

    /// This profile's section in the config file, for messages: `[profile NAME] in PATH`.
    pub fn config_section(&self) -> String {
        let section = if self.name == "default" {
            "[default]".to_string()
        } else {
            format!("[profile {}]", self.name)
        };
        format!(
            "{section} in {}",
            show_path(self.config_file(), "~/.aws/config")
        )
    }

    /// Where to set things for this profile, for messages: both files with their sections.
    pub fn where_to_set(&self) -> String {
        format!(
            "{} or [{}] in {}",
            self.config_section(),
            self.name,
            show_path(self.credentials_file(), "~/.aws/credentials"),
        )
    }
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("explicit", &self.explicit)
            .field("config", &self.config)
            .field("credentials", &self.credentials)
            .field("config_file", &self.config_file)
            .field("credentials_file", &self.credentials_file)
            .finish()
    }
}

/// A path for a message, or the conventional name when there is none (no home directory).
pub(crate) fn show_path(path: Option<&Path>, fallback: &str) -> String {
    path.map_or_else(|| fallback.to_string(), |p| p.display().to_string())
}

/// The endpoint to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `scheme://host[:port]`: no trailing slash, no path; the port only when not the
    /// scheme's default.
    pub url: String,
    /// The `Host` header value: `host[:port]` (the port only when not the default).
    pub host: String,
}

impl Endpoint {
    /// Parses and checks an endpoint URL; `source` names where it came from (a flag or a
    /// variable) for errors.
    ///
    /// Accepts `http` or `https`, a host name, IPv4 address or bracketed IPv6 address, an
    /// optional port, and at most a `/` path. Plain `http` is allowed only for loopback
    /// hosts unless `allow_http`: requests carry signed credentials and data.
    pub fn parse(url: &str, source: &str, allow_http: bool) -> Result<Endpoint> {
        let bad =
            |why: &str| Error::Config(format!("invalid endpoint URL '{url}' ({source}): {why}"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected http://HOST[:PORT] or https://HOST[:PORT]"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return Err(bad("the scheme must be http or https")),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if !(tail.is_empty() || tail == "/") {
            return Err(bad("an endpoint cannot have a path, query or fragment"));
        }
        if authority.contains('@') {
            return Err(bad("an endpoint cannot contain a user name or password"));
        }
        let (host, port_text, ip) = if let Some(inner) = authority.strip_prefix('[') {
            let (addr, after) = inner
                .split_once(']')
                .ok_or_else(|| bad("IPv6 address without a closing ']'"))?;
            let v6: Ipv6Addr = addr.parse().map_err(|_| bad("invalid IPv6 address"))?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
            };
            (format!("[{v6}]"), port, Some(IpAddr::V6(v6)))
        } else {
            let (h, p) = match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            };
            if h.is_empty() {
                return Err(bad("no host"));
            }
            if !h
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
            {
                return Err(bad("invalid character in the host name"));
            }
            let h = h.to_ascii_lowercase();
            let ip = h.parse::<IpAddr>().ok();
            (h, p, ip)
        };
        let port = match port_text {
            None => default_port,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&n| n != 0 && p.chars().all(|c| c.is_ascii_digit()))
                .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?,
        };
        let loopback = host == "localhost" || ip.is_some_and(|ip| ip.is_loopback());
        if scheme == "http" && !loopback && !allow_http {
            return Err(Error::Config(format!(
                "refusing plain-HTTP endpoint '{url}' ({source}): requests would travel \
                 unencrypted; use https://, or pass --allow-http if that is really wanted"
            )));
        }
        let host = if port == default_port {
            host
        } else {
            format!("{host}:{port}")
        };
        Ok(Endpoint {
            url: format!("{scheme}://{host}"),
            host,
        })
    }

    /// The public Glacier endpoint for `region` (China regions live under
    /// `amazonaws.com.cn`, as botocore's endpoint partitions say).
    pub fn for_region(region: &str) -> Endpoint {
        let suffix = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        let host = format!("glacier.{region}.{suffix}");
        Endpoint {
            url: format!("https://{host}"),
            host,
        }
    }
}

/// The configuration every request needs, settled once per run.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The region, e.g. `us-east-1`.
    pub region: String,
    /// Where requests go.
    pub endpoint: Endpoint,
    /// The account ID for request paths: `-` (the caller's own account) unless given.
    pub account_id: String,
    /// The chosen profile with its settings.
    pub profile: Profile,
    /// An extra CA certificate file to trust (`AWS_CA_BUNDLE` or the profile's `ca_bundle`).
    pub ca_bundle: Option<PathBuf>,
}

/// A file path from a variable, else `~/` + `default`; a leading `~/` is expanded as the
/// AWS CLI does.
fn file_path(env: &dyn Env, var: &str, default: &str) -> Option<PathBuf> {
    match env_var(env, var) {
        Some(p) => match p.strip_prefix("~/") {
            Some(rest) => env.home().map(|h| h.join(rest)).or(Some(PathBuf::from(p))),
            None => Some(PathBuf::from(p)),
        },
        None => env.home().map(|h| h.join(default)),
    }
}

fn load_optional(path: Option<&Path>) -> Result<Option<IniFile>> {
    match path {
        Some(p) => IniFile::load(p),
        None => Ok(None),
    }
}

/// Reads the files and builds the profile the settings and environment select.
pub fn profile(settings: &Settings, env: &dyn Env) -> Result<Profile> {
    let named = match &settings.profile {
        Some(p) => Some((p.clone(), "--profile")),
        None => env_var(env, "AWS_PROFILE").map(|p| (p, "AWS_PROFILE")),
    };
    let (name, explicit) = match &named {
        Some((p, _)) => (p.trim().to_string(), true),
        None => ("default".to_string(), false),
    };
    if name.is_empty() {
        return Err(Error::Config("the profile name is empty".to_string()));
    }
    let config_file = file_path(env, "AWS_CONFIG_FILE", ".aws/config");
    let credentials_file = file_path(env, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
    let config = load_optional(config_file.as_deref())?;
    let credentials = load_optional(credentials_file.as_deref())?;
    let profile = Profile {
        config: config
            .as_ref()
            .and_then(|f| f.config_profile(&name))
            .cloned(),
        credentials: credentials.as_ref().and_then(|f| f.section(&name)).cloned(),
        name,
        explicit,
        config_file,
        credentials_file,
    };
    if let Some((_, from)) = named.filter(|_| !profile.exists()) {
        return Err(Error::Config(format!(
            "profile '{}' (from {from}) not found: add {}",
            profile.name,
            profile.where_to_set()
        )));
    }
    Ok(profile)
}

/// Checks a region's shape: lowercase letters, digits and inner `-`, like `us-east-1`.
fn check_region(region: &str, source: &str) -> Result<()> {
    let ok = !region.is_empty()
        && region.len() <= 63
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "invalid region '{region}' ({source}): a region is lowercase letters, digits and \
             '-', like us-east-1"
        )))
    }
}

/// Settles region, endpoint, account ID, profile and CA bundle from the flags, the
/// environment and the profile, first that is set wins:
///
/// - profile: `--profile`, `AWS_PROFILE`, else `default`;
/// - region: `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`;
/// - endpoint: `--endpoint-url`, `AWS_ENDPOINT_URL_GLACIER`, `AWS_ENDPOINT_URL`, the
///   profile's `endpoint_url`, else `https://glacier.{region}.amazonaws.com`;
/// - account ID: `--account-id`, else `-`;
/// - CA bundle: `AWS_CA_BUNDLE`, the profile's `ca_bundle`.
pub fn resolve(settings: &Settings, env: &dyn Env) -> Result<Resolved> {
    let profile = profile(settings, env)?;

    let region_sources = [
        (settings.region.clone(), "--region".to_string()),
        (env_var(env, "AWS_REGION"), "AWS_REGION".to_string()),
        (
            env_var(env, "AWS_DEFAULT_REGION"),
            "AWS_DEFAULT_REGION".to_string(),
        ),
        (
            profile.get("region").map(str::to_string),
            format!("region in profile '{}'", profile.name),
        ),
    ];
    let Some((region, source)) = region_sources
        .into_iter()
        .find_map(|(v, s)| v.map(|v| (v.trim().to_string(), s)))
    else {
        return Err(Error::Config(format!(
            "no region: pass --region (e.g. --region us-east-1), set AWS_REGION, or set \
             region in {}",
            profile.config_section()
        )));
    };
    check_region(&region, &source)?;

    let endpoint_sources = [
        (settings.endpoint_url.clone(), "--endpoint-url".to_string()),
        (
            env_var(env, "AWS_ENDPOINT_URL_GLACIER"),
            "AWS_ENDPOINT_URL_GLACIER".to_string(),
        ),
        (
            env_var(env, "AWS_ENDPOINT_URL"),
            "AWS_ENDPOINT_URL".to_string(),
        ),
        (
            profile.get("endpoint_url").map(str::to_string),
            format!("endpoint_url in profile '{}'", profile.name),
        ),
    ];
    let endpoint = match endpoint_sources
        .into_iter()
        .find_map(|(v, s)| v.map(|v| (v, s)))
    {
        Some((url, source)) => Endpoint::parse(url.trim(), &source, settings.allow_http)?,
        None => Endpoint::for_region(&region),
    };

    // "If you specify your account ID, do not include any hyphens" (Glacier API
    // Reference, "Common Request Headers" / path parameters); `-` means the caller's own.
    let account_id = match &settings.account_id {
        None => "-".to_string(),
        Some(a) if a == "-" || (a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())) => {
            a.clone()
        }
        Some(a) => {
            return Err(Error::Config(format!(
                "invalid --account-id '{a}': give the 12-digit account ID without hyphens, or \
                 '-' for your own account"
            )));
        }
    };

    let ca_bundle = env_var(env, "AWS_CA_BUNDLE")
        .or_else(|| profile.get("ca_bundle").map(str::to_string))
        .map(PathBuf::from);

    Ok(Resolved {
        region,
        endpoint,
        account_id,
        profile,
        ca_bundle,
    })
}

/// Helpers shared by this crate's unit tests that need config files on disk.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system temp dir, removed on drop.
    pub(crate) struct TempDir(PathBuf);

    impl TempDir {
        pub(crate) fn new(tag: &str) -> TempDir {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("glacier-upload-{tag}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create temp dir");
            TempDir(dir)
        }

        pub(crate) fn path(&self) -> &Path {
            &self.0
        }

        /// Writes `text` to `name` inside the directory and returns its path.
        pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
            let p = self.0.join(name);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).expect("create parent");
            }
            std::fs::write(&p, text).expect("write temp file");
            p
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // In tests a panic is the failure report.
mod tests {
    use super::test_support::TempDir;
    use super::*;

    fn parse(text: &str) -> Result<IniFile> {
        IniFile::parse(text, Path::new("/x/config"))
    }

    fn line_of(e: Error) -> (usize, String) {
        match e {
            Error::ConfigFile { line, message, .. } => (line, message),
            other => panic!("expected ConfigFile, got {other:?}"),
        }
    }

    /// A home directory holding `~/.aws/config` and `~/.aws/credentials`.
    fn home(config: &str, credentials: &str) -> (TempDir, MapEnv) {
        let dir = TempDir::new("config");
        dir.write(".aws/config", config);
        dir.write(".aws/credentials", credentials);
        let env = MapEnv::new().with_home(dir.path());
        (dir, env)
    }

    fn err_text(r: Result<Resolved>) -> String {
        match r {
            Ok(r) => panic!("expected an error, got {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn ini_sections_keys_comments_and_continuations() {
        let f = parse(
            "# comment\n; another\n\n[default]\nregion = eu-west-1\r\nKey=Value = x\n\
             s3 =\n  max_concurrent_requests = 20\n\tsignature_version = s3v4\n\
             [profile work]  # trailing comment\n  \nregion=us-east-1\n[default]\nout = json\n",
        )
        .unwrap();
        let d = f.section("default").unwrap();
        assert_eq!(d.get("region"), Some("eu-west-1"));
        // Keys are case-sensitive and the value keeps later '=' signs.
        assert_eq!(d.get("Key"), Some("Value = x"));
        assert_eq!(d.get("key"), None);
        assert_eq!(
            d.get("s3"),
            Some("\nmax_concurrent_requests = 20\nsignature_version = s3v4")
        );
        // The repeated [default] merged into the first.
        assert_eq!(d.get("out"), Some("json"));
        assert_eq!(
            f.section_names().collect::<Vec<_>>(),
            ["default", "profile work"]
        );
        assert_eq!(
            f.section("profile work").unwrap().get("region"),
            Some("us-east-1")
        );
        assert!(f.section("work").is_none());
    }

    #[test]
    fn ini_errors_name_the_line_and_never_quote_it() {
        let (line, msg) = line_of(parse("[default]\nregion = x\nAKIASECRETLINE\n").unwrap_err());
        assert_eq!(line, 3);
        assert!(!msg.contains("AKIASECRETLINE"), "{msg}");
        assert_eq!(line_of(parse("region = x\n").unwrap_err()).0, 1);
        assert_eq!(line_of(parse("\n\n[default\n").unwrap_err()).0, 3);
        assert_eq!(line_of(parse("[]\n").unwrap_err()).0, 1);
        assert_eq!(line_of(parse("[a]\n = v\n").unwrap_err()).0, 2);
        assert_eq!(line_of(parse("[a] junk\n").unwrap_err()).0, 1);
        assert_eq!(line_of(parse("  indented = first\n").unwrap_err()).0, 1);
        // Indented lines with no setting above them are ordinary lines.
        let f = parse("  [a]\n  k = v\n    more\n").unwrap();
        assert_eq!(f.section("a").unwrap().get("k"), Some("v\nmore"));
        assert_eq!(line_of(parse("[a]\n  indented\n").unwrap_err()).0, 2);
        let e = parse("[a]\nb = c\nbroken\n").unwrap_err().to_string();
        assert!(e.starts_with("/x/config:3: "), "{e}");
    }

    #[test]
    fn malformed_file_on_disk_is_an_error_with_its_path_and_line() {
        let (dir, env) = home("[default]\nregion = us-east-1\n\nnot a setting\n", "");
        let e = resolve(&Settings::default(), &env).unwrap_err();
        match e {
            Error::ConfigFile { path, line, .. } => {
                assert_eq!(path, dir.path().join(".aws/config"));
                assert_eq!(line, 4);
            }
            other => panic!("{other:?}"),
        }
        std::fs::write(
            dir.path().join(".aws/config"),
            b"[default]\nregion = \xff\n",
        )
        .unwrap();
        assert_eq!(
            line_of(resolve(&Settings::default(), &env).unwrap_err()).0,
            2
        );
    }

    #[test]
    fn missing_files_and_no_home_are_fine() {
        let env = MapEnv::new().with("AWS_REGION", "us-west-2");
        let r = resolve(&Settings::default(), &env).unwrap();
        assert_eq!(r.profile.name, "default");
        assert!(!r.profile.explicit);
        assert!(!r.profile.exists());
        let dir = TempDir::new("config-empty");
        let env = env.with_home(dir.path());
        assert_eq!(
            resolve(&Settings::default(), &env).unwrap().region,
            "us-west-2"
        );
    }

    #[test]
    fn profile_selection_flag_then_env_then_default() {
        let (_d, env) = home(
            "[default]\nregion = eu-west-1\n[profile a]\nregion = eu-west-2\n\
             [profile b]\nregion = eu-west-3\n",
            "",
        );
        let flag = Settings {
            profile: Some("a".into()),
            ..Settings::default()
        };
        let r = resolve(&flag, &env).unwrap();
        assert_eq!((r.profile.name.as_str(), r.profile.explicit), ("a", true));
        assert_eq!(r.region, "eu-west-2");
        let env_b = env.clone().with("AWS_PROFILE", "b");
        assert_eq!(resolve(&flag, &env_b).unwrap().region, "eu-west-2");
        let r = resolve(&Settings::default(), &env_b).unwrap();
        assert_eq!((r.profile.name.as_str(), r.profile.explicit), ("b", true));
        assert_eq!(r.region, "eu-west-3");
        let r = resolve(&Settings::default(), &env).unwrap();
        assert_eq!(
            (r.profile.name.as_str(), r.profile.explicit),
            ("default", false)
        );
        assert_eq!(r.region, "eu-west-1");
    }

    #[test]
    fn files_from_env_vars_and_credentials_file_wins() {
        let dir = TempDir::new("config-vars");
        let config = dir.write(
            "cfg",
            "[profile p]\nregion = ap-south-1\naws_access_key_id = FROMCONFIG\n",
        );
        let creds = dir.write(
            "creds",
            "[p]\naws_access_key_id = FROMCREDS\n[profile p]\nregion = x\n",
        );
        let env = MapEnv::new()
            .with("AWS_CONFIG_FILE", config.to_str().unwrap())
            .with("AWS_SHARED_CREDENTIALS_FILE", creds.to_str().unwrap())
            .with("AWS_PROFILE", "p");
        let r = resolve(&Settings::default(), &env).unwrap();
        assert_eq!(r.region, "ap-south-1");
        assert_eq!(r.profile.get("aws_access_key_id"), Some("FROMCREDS"));
        assert_eq!(r.profile.origin("aws_access_key_id"), Some(creds.as_path()));
        assert_eq!(r.profile.origin("region"), Some(config.as_path()));
        // Debug shows keys, never values.
        let dbg = format!("{:?}", r.profile);
        assert!(
            dbg.contains("aws_access_key_id") && !dbg.contains("FROMCREDS"),
            "{dbg}"
        );
    }

    #[test]
    fn profile_default_section_forms() {
        let (_d, env) = home(
            "[profile default]\nregion = sa-east-1\n[default]\nregion = x\n",
            "",
        );
        assert_eq!(
            resolve(&Settings::default(), &env).unwrap().region,
            "sa-east-1"
        );
        // In the config file a section without the `profile` prefix is not a profile.
        let (_d, env) = home("[work]\nregion = sa-east-1\n", "");
        let named = Settings {
            profile: Some("work".into()),
            ..Settings::default()
        };
        assert!(err_text(resolve(&named, &env)).contains("profile 'work'"));
    }

    #[test]
    fn explicit_unknown_profile_is_an_error_naming_it() {
        let (_d, env) = home("[default]\nregion = us-east-1\n", "[default]\n");
        let s = Settings {
            profile: Some("nosuch".into()),
            ..Settings::default()
        };
        let msg = err_text(resolve(&s, &env));
        assert!(
            msg.contains("profile 'nosuch'") && msg.contains("--profile"),
            "{msg}"
        );
        assert!(msg.contains("[profile nosuch]"), "{msg}");
        let msg = err_text(resolve(
            &Settings::default(),
            &env.with("AWS_PROFILE", "other"),
        ));
        assert!(
            msg.contains("profile 'other'") && msg.contains("AWS_PROFILE"),
            "{msg}"
        );
        // A profile only in the credentials file exists.
        let (_d, env) = home("", "[k]\naws_access_key_id = A\n");
        let s = Settings {
            profile: Some("k".into()),
            region: Some("us-east-1".into()),
            ..Settings::default()
        };
        assert!(resolve(&s, &env).is_ok());
    }

    #[test]
    fn region_precedence() {
        let (_d, env) = home("[default]\nregion = eu-central-1\n", "");
        let flag = Settings {
            region: Some("us-east-2".into()),
            ..Settings::default()
        };
        let both = env
            .clone()
            .with("AWS_REGION", "us-west-1")
            .with("AWS_DEFAULT_REGION", "us-west-2");
        assert_eq!(resolve(&flag, &both).unwrap().region, "us-east-2");
        assert_eq!(
            resolve(&Settings::default(), &both).unwrap().region,
            "us-west-1"
        );
        let dflt = env.clone().with("AWS_DEFAULT_REGION", "us-west-2");
        assert_eq!(
            resolve(&Settings::default(), &dflt).unwrap().region,
            "us-west-2"
        );
        // An empty variable counts as unset.
        let empty = env.clone().with("AWS_REGION", "");
        assert_eq!(
            resolve(&Settings::default(), &empty).unwrap().region,
            "eu-central-1"
        );
    }

    #[test]
    fn no_region_says_how_to_fix_it() {
        let (_d, env) = home("[profile w]\noutput = json\n", "");
        let s = Settings {
            profile: Some("w".into()),
            ..Settings::default()
        };
        let msg = err_text(resolve(&s, &env));
        assert!(msg.starts_with("no region"), "{msg}");
        for needle in ["--region", "AWS_REGION", "[profile w]", ".aws/config"] {
            assert!(msg.contains(needle), "{needle} missing from: {msg}");
        }
    }

    #[test]
    fn region_shape_is_checked() {
        for bad in [
            "US-EAST-1",
            "us east 1",
            "-us",
            "us-",
            "us_east_1",
            "us.east",
        ] {
            let s = Settings {
                region: Some(bad.into()),
                ..Settings::default()
            };
            let msg = err_text(resolve(&s, &MapEnv::new()));
            assert!(
                msg.contains("invalid region") && msg.contains("--region"),
                "{msg}"
            );
        }
        let msg = err_text(resolve(
            &Settings::default(),
            &MapEnv::new().with("AWS_REGION", "Bad"),
        ));
        assert!(msg.contains("AWS_REGION"), "{msg}");
    }

    #[test]
    fn endpoint_precedence_and_default() {
        let (_d, env) = home(
            "[default]\nregion = us-east-1\nendpoint_url = https://profile.example\n",
            "",
        );
        let r = resolve(&Settings::default(), &env).unwrap();
        assert_eq!(r.endpoint.url, "https://profile.example");
        let env2 = env
            .clone()
            .with("AWS_ENDPOINT_URL", "https://general.example/");
        assert_eq!(
            resolve(&Settings::default(), &env2).unwrap().endpoint.url,
            "https://general.example"
        );
        let env3 = env2.with("AWS_ENDPOINT_URL_GLACIER", "https://glacier.example:8443");
        let r = resolve(&Settings::default(), &env3).unwrap();
        assert_eq!(r.endpoint.url, "https://glacier.example:8443");
        assert_eq!(r.endpoint.host, "glacier.example:8443");
        let flag = Settings {
            endpoint_url: Some("http://127.0.0.1:9000".into()),
            ..Settings::default()
        };
        let r = resolve(&flag, &env3).unwrap();
        assert_eq!(r.endpoint.url, "http://127.0.0.1:9000");
        // No endpoint anywhere: the public one for the region.
        let s = Settings {
            region: Some("eu-west-1".into()),
            ..Settings::default()
        };
        let r = resolve(&s, &MapEnv::new()).unwrap();
        assert_eq!(r.endpoint.url, "https://glacier.eu-west-1.amazonaws.com");
        assert_eq!(r.endpoint.host, "glacier.eu-west-1.amazonaws.com");
        assert_eq!(r.account_id, "-");
        assert_eq!(r.ca_bundle, None);
        assert_eq!(
            Endpoint::for_region("cn-north-1").host,
            "glacier.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn endpoint_parsing() {
        let ok = |u: &str| Endpoint::parse(u, "--endpoint-url", false).unwrap();
        let e = ok("HTTPS://Glacier.Example.COM:443/");
        assert_eq!(e.url, "https://glacier.example.com");
        assert_eq!(e.host, "glacier.example.com");
        let e = ok("https://[2001:db8::1]:8443");
        assert_eq!(
            (e.url.as_str(), e.host.as_str()),
            ("https://[2001:db8::1]:8443", "[2001:db8::1]:8443")
        );
        assert_eq!(ok("http://localhost:80").host, "localhost");
        for bad in [
            "glacier.example.com",
            "ftp://x",
            "https://",
            "https://x/path",
            "https://x?q=1",
            "https://user:pw@x",
            "https://x:0",
            "https://x:99999",
            "https://x:8a",
            "https://[::1",
            "https://[zz]",
            "https://a b",
            "https://[::1]x",
        ] {
            let msg = Endpoint::parse(bad, "--endpoint-url", false)
                .unwrap_err()
                .to_string();
            assert!(msg.contains(bad) && msg.contains("--endpoint-url"), "{msg}");
        }
    }

    #[test]
    fn plain_http_only_for_loopback_unless_allowed() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            assert!(Endpoint::parse(ok, "--endpoint-url", false).is_ok(), "{ok}");
        }
        for remote in [
            "http://10.0.0.1",
            "http://glacier.example.com",
            "http://[2001:db8::1]",
        ] {
            let msg = Endpoint::parse(remote, "AWS_ENDPOINT_URL", false)
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains(remote) && msg.contains("--allow-http"),
                "{msg}"
            );
            assert!(Endpoint::parse(remote, "AWS_ENDPOINT_URL", true).is_ok());
        }
        let s = Settings {
            region: Some("us-east-1".into()),
            endpoint_url: Some("http://192.0.2.7:8080".into()),
            ..Settings::default()
        };
        assert!(err_text(resolve(&s, &MapEnv::new())).contains("--allow-http"));
        let s = Settings {
            allow_http: true,
            ..s
        };
        assert_eq!(
            resolve(&s, &MapEnv::new()).unwrap().endpoint.host,
            "192.0.2.7:8080"
        );
    }

    #[test]
    fn account_id_and_ca_bundle() {
        let (_d, env) = home(
            "[default]\nregion = us-east-1\nca_bundle = /etc/profile-ca.pem\n",
            "",
        );
        let s = Settings {
            account_id: Some("123456789012".into()),
            ..Settings::default()
        };
        let r = resolve(&s, &env).unwrap();
        assert_eq!(r.account_id, "123456789012");
        assert_eq!(r.ca_bundle, Some(PathBuf::from("/etc/profile-ca.pem")));
        let env2 = env.clone().with("AWS_CA_BUNDLE", "/etc/env-ca.pem");
        assert_eq!(
            resolve(&s, &env2).unwrap().ca_bundle,
            Some(PathBuf::from("/etc/env-ca.pem"))
        );
        let bad = Settings {
            account_id: Some("1234-5678-9012".into()),
            ..Settings::default()
        };
        assert!(err_text(resolve(&bad, &env)).contains("--account-id"));
    }
}
