//! A profile's `credential_process`: run it, read its JSON, never echo its output (it
//! carries the secret).

use std::fmt;
use std::process::{Command, Stdio};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Credentials, Provider};
use crate::error::{Error, Result};

/// Runs a profile's `credential_process` and reads its JSON ("Sourcing credentials with
/// an external process", AWS CLI User Guide).
#[derive(Debug, Clone)]
pub struct Process {
    command: String,
    profile: String,
}

impl Process {
    /// The command line `command` (run with `sh -c`) from profile `profile`.
    pub fn new(command: impl Into<String>, profile: impl Into<String>) -> Process {
        Process {
            command: command.into(),
            profile: profile.into(),
        }
    }

    fn fail(&self, why: impl fmt::Display) -> Error {
        Error::Credentials(format!(
            "credential_process of profile '{}' {why}",
            self.profile
        ))
    }
}

impl Provider for Process {
    fn credentials(&self) -> Result<Credentials> {
        // No stdin: the process must not wait on ours. Its stderr is captured for the
        // error message; a process that prompts (MFA) should use /dev/tty.
        let output = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| self.fail(format_args!("could not be started with sh: {e}")))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(|l| format!(": {}", truncate(l, 300)))
                .unwrap_or_default();
            // Never its stdout: that is where the secret would be.
            return Err(self.fail(format_args!("failed ({}){first}", output.status)));
        }
        let value: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|e| {
            // Only the position: serde's message can quote the output.
            self.fail(format_args!(
                "printed output that is not JSON (error at line {} column {}); expected \
                 {{\"Version\": 1, \"AccessKeyId\": ..., \"SecretAccessKey\": ...}}",
                e.line(),
                e.column()
            ))
        })?;
        let field = |name: &str| value.get(name).and_then(|v| v.as_str());
        if value.get("Version").and_then(|v| v.as_u64()) != Some(1) {
            return Err(self.fail("printed JSON without \"Version\": 1"));
        }
        let (Some(id), Some(secret)) = (field("AccessKeyId"), field("SecretAccessKey")) else {
            return Err(self.fail(
                "printed JSON without string fields \"AccessKeyId\" and \"SecretAccessKey\"",
            ));
        };
        let expiration = match value.get("Expiration") {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(
                v.as_str()
                    .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
                    .ok_or_else(|| {
                        self.fail("printed an \"Expiration\" that is not an RFC 3339 time")
                    })?,
            ),
        };
        Ok(Credentials::new(
            id,
            secret,
            field("SessionToken").map(str::to_string),
            expiration,
        ))
    }

    fn describe(&self) -> String {
        format!("credential_process of profile '{}'", self.profile)
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
