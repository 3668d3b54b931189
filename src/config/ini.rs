//! The AWS INI format of `~/.aws/config` and `~/.aws/credentials`: sections of
//! `key = value`, comments, continuation lines; errors name the file and line, never the
//! value (it may be a secret).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

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
    pub(super) fn config_profile(&self, name: &str) -> Option<&Section> {
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
