//! Choosing the profile (`--profile`, `AWS_PROFILE`, `default`), finding the two files,
//! and merging the profile's sections from both.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{Env, IniFile, Section, Settings, env_var};
use crate::error::{Error, Result, Setting};

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
    /// The config file's `[services NAME]` section the profile's `services` key names.
    services: Option<Section>,
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
            services: None,
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

    /// A setting of one service in the `[services NAME]` section this profile names with
    /// `services = NAME` ("Service-specific endpoints", AWS SDKs and Tools Reference
    /// Guide), e.g. `service_setting("sts", "endpoint_url")` for
    ///
    /// ```text
    /// [services mine]
    /// sts =
    ///   endpoint_url = http://127.0.0.1:8080
    /// ```
    pub fn service_setting(&self, service: &str, key: &str) -> Option<&str> {
        let nested = self.services.as_ref()?.get(service)?;
        nested.lines().find_map(|line| {
            let (k, v) = line.split_once('=')?;
            (k.trim() == key && !v.trim().is_empty()).then(|| v.trim())
        })
    }

    /// Another profile from the same two files (a `source_profile`), or `None` when
    /// neither file has it. It counts as named, like one given by `--profile`.
    pub fn sibling(&self, name: &str) -> Result<Option<Profile>> {
        let p = load(
            name,
            true,
            self.config_file.clone(),
            self.credentials_file.clone(),
        )?;
        Ok(p.exists().then_some(p))
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
            .field("services", &self.services)
            .field("config_file", &self.config_file)
            .field("credentials_file", &self.credentials_file)
            .finish()
    }
}

/// A path for a message, or the conventional name when there is none (no home directory).
pub(crate) fn show_path(path: Option<&Path>, fallback: &str) -> String {
    path.map_or_else(|| fallback.to_string(), |p| p.display().to_string())
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

/// Reads the two files and builds profile `name` from them (empty when neither has it).
fn load(
    name: &str,
    explicit: bool,
    config_file: Option<PathBuf>,
    credentials_file: Option<PathBuf>,
) -> Result<Profile> {
    let config = load_optional(config_file.as_deref())?;
    let credentials = load_optional(credentials_file.as_deref())?;
    let section = config.as_ref().and_then(|f| f.config_profile(name));
    let services = section
        .and_then(|s| s.get("services"))
        .and_then(|s| config.as_ref()?.section(&format!("services {}", s.trim())));
    Ok(Profile {
        config: section.cloned(),
        credentials: credentials.as_ref().and_then(|f| f.section(name)).cloned(),
        services: services.cloned(),
        name: name.to_string(),
        explicit,
        config_file,
        credentials_file,
    })
}

/// Reads the files and builds the profile the settings and environment select.
pub fn profile(settings: &Settings, env: &dyn Env) -> Result<Profile> {
    let named = match &settings.profile {
        Some(p) => Some((p.clone(), Setting::Profile.to_string())),
        None => env_var(env, "AWS_PROFILE").map(|p| (p, "AWS_PROFILE".to_string())),
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
    let profile = load(&name, explicit, config_file, credentials_file)?;
    if let Some((_, from)) = named.filter(|_| !profile.exists()) {
        return Err(Error::Config(format!(
            "profile '{}' (from {from}) not found: add {}",
            profile.name,
            profile.where_to_set()
        )));
    }
    Ok(profile)
}
