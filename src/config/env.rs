//! The environment as configuration sees it: a trait, so tests pass a fixed map instead
//! of touching the process environment.

use std::collections::HashMap;
use std::path::PathBuf;

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
