//! The command line: argv in, a typed command out, results printed.
//!
//! Flags are taken low-level first with pico-args (global flags from anywhere on the
//! line, then the subcommand's own), validated into typed values, and anything left that
//! looks like a flag is a usage error naming it. This is the only module that reads argv
//! and the environment for options, and the only one that prints results. Each command
//! lives in its own file with its parser and its runner.

mod archive;
mod args;
mod export;
pub(crate) mod flags;
mod generate;
mod help;
mod inventory;
mod jobs;
mod knobs;
mod output;
mod plan;
mod plan_report;
mod purge;
mod retrieval;
mod s3_client;
mod scope;
mod tree_hash;
mod upload;
mod uploads;
mod vault;

pub(crate) use args::Args;
pub(crate) use output::Output;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::aws::RateLimit;
use crate::config::{self, Env, ProcessEnv, Settings};
use crate::credentials;
use crate::error::{self, Error, Result};
use crate::glacier::{Client, ClientConfig};

/// Options that apply to every command and may stand before or after it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Global {
    /// `--json`: machine-readable output on stdout.
    pub json: bool,
    /// `--quiet`: no progress and no notes on stderr.
    pub quiet: bool,
    /// `--verbose`: log each request on stderr.
    pub verbose: bool,
    /// `--region`, `--profile`, `--endpoint-url`, `--account-id`, `--allow-http`.
    pub settings: Settings,
    /// `--max-attempts`: attempts per request, retries included.
    pub max_attempts: Option<u32>,
    /// `--connect-timeout` and `--timeout` in seconds.
    pub connect_timeout: Option<u64>,
    /// See [`Global::connect_timeout`].
    pub timeout: Option<u64>,
    /// `--limit-rate` of the commands that move archive bytes: one limit, shared by every
    /// client the run builds.
    pub limit_rate: Option<Arc<RateLimit>>,
}

impl Global {
    fn parse(args: &mut Args) -> Result<Global> {
        let g = Global {
            json: args.switch(&flags::JSON),
            quiet: args.switch(&flags::QUIET),
            verbose: args.switch(&flags::VERBOSE),
            settings: Settings {
                region: args.text(&flags::REGION)?,
                profile: args.text(&flags::PROFILE)?,
                endpoint_url: args.text(&flags::ENDPOINT_URL)?,
                account_id: args.text(&flags::ACCOUNT_ID)?,
                allow_http: args.switch(&flags::ALLOW_HTTP),
            },
            max_attempts: args.whole(&flags::MAX_ATTEMPTS)?,
            connect_timeout: args.whole(&flags::CONNECT_TIMEOUT)?,
            timeout: args.whole(&flags::TIMEOUT)?,
            limit_rate: None,
        };
        if g.max_attempts == Some(0) {
            return Err(Error::Usage("--max-attempts must be at least 1".into()));
        }
        // A zero limit would fail every request (or, for the connection, mean whatever
        // the HTTP stack makes of it); neither is what anyone asking for it wants.
        for (flag, v) in [
            ("--connect-timeout", g.connect_timeout),
            ("--timeout", g.timeout),
        ] {
            if v == Some(0) {
                return Err(Error::Usage(format!("{flag} must be at least 1 (seconds)")));
            }
        }
        Ok(g)
    }

    /// Builds the Glacier client from flags, environment and profile files.
    pub fn client(&self) -> Result<Client> {
        let env = ProcessEnv;
        let resolved = config::resolve(&self.settings, &env)?;
        let log = self
            .verbose
            .then(|| -> credentials::Log { Arc::new(|l| eprintln!("glacier: {l}")) });
        let opts = credentials::ChainOptions {
            log,
            ..Default::default()
        };
        let credentials = credentials::chain_with(&resolved, &env, opts)?;
        let mut cfg = ClientConfig::new(resolved, credentials);
        if let Some(n) = self.max_attempts {
            cfg.retry.max_attempts = n;
        }
        // Test hook: the integration tests shorten backoff so retry paths run fast.
        if let Some(base) = knobs::retry_base(&env) {
            cfg.retry.base_delay = base;
            cfg.retry.max_delay = base * 8;
        }
        if let Some(v) = env.var(crate::aws::MIN_UPLOAD_RATE_VAR) {
            cfg.min_rate = crate::aws::parse_min_upload_rate(&v)?;
        }
        if let Some(s) = self.connect_timeout {
            cfg.connect_timeout = Duration::from_secs(s);
        }
        if let Some(s) = self.timeout {
            cfg.timeout = Duration::from_secs(s);
        }
        if self.verbose {
            cfg.log = Some(Arc::new(|line: &str| eprintln!("glacier: {line}")));
        }
        cfg.limit_rate = self.limit_rate.clone();
        Client::new(cfg)
    }

    /// Should progress be drawn? Only on a terminal, and never with `--quiet`.
    pub fn progress_enabled(&self) -> bool {
        use std::io::IsTerminal;
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// The stderr reporter long commands run with: a progress line on a terminal, notes
    /// unless `--quiet`.
    pub fn display(&self) -> crate::progress::Display {
        crate::progress::Display::new(self.progress_enabled(), !self.quiet)
    }
}

/// A note for the user on stderr (not a result), unless `--quiet`.
pub(crate) fn note(global: &Global, msg: &str) {
    if !global.quiet {
        eprintln!("glacier: {msg}");
    }
}

/// Watches SIGINT, SIGTERM and SIGHUP for a command that stops between steps
/// ([`crate::signals::install_with`]). Once the first has set `stop`, says so at once on
/// stderr, as `glacier: interrupted: {then}`: work in flight may take minutes to finish,
/// and the line is a sign that nothing new starts. `then` is the command's own sentence
/// on what it does from then on. The line goes through `display`, the command's own, so
/// it clears a progress line first and is silenced with `--quiet` (which turns the
/// display's notes off).
pub(crate) fn stop_on_signal(
    stop: &Arc<AtomicBool>,
    display: &Arc<crate::progress::Display>,
    then: impl Into<String>,
) -> Result<()> {
    use crate::progress::Reporter;
    let (display, then) = (Arc::clone(display), then.into());
    crate::signals::install_with(stop, move || {
        display.note(&format!("interrupted: {then}"));
    })
}

/// A parsed command line.
#[derive(Debug)]
pub(crate) enum Command {
    /// Print help: the overview, or one command's page.
    Help(Option<String>),
    /// Print the version.
    Version,
    /// Print the man page or a completion script (`--generate KIND`).
    Generate(&'static str),
    /// `glacier tree-hash`.
    TreeHash(tree_hash::TreeHashCmd),
    /// `glacier vault ...`.
    Vault(vault::VaultCmd),
    /// `glacier jobs ...`.
    Jobs(jobs::JobsCmd),
    /// `glacier uploads ...`.
    Uploads(uploads::UploadsCmd),
    /// `glacier archive ...`.
    Archive(archive::ArchiveCmd),
    /// `glacier upload ...`.
    Upload(upload::UploadCmd),
    /// `glacier inventory ...`.
    Inventory(inventory::InventoryCmd),
}

/// Parses argv (without the program name) into the global options and a command.
pub(crate) fn parse(argv: Vec<std::ffi::OsString>) -> Result<(Global, Command)> {
    let mut args = Args::new(argv)?;
    let mut global = Global::parse(&mut args)?;
    if let Some(kind) = args.choice(&flags::GENERATE)? {
        // Nothing else on the line: the output is meant for a file.
        args.finish_empty()?;
        return Ok((global, Command::Generate(kind)));
    }
    let help = args.switch(&flags::HELP);
    if args.switch(&flags::VERSION) {
        return Ok((global, Command::Version));
    }
    let Some(name) = args.subcommand()? else {
        args.finish_empty()?;
        return Ok((global, Command::Help(None)));
    };
    if help {
        // `glacier vault export --help` asks for the page of `vault export`; words that
        // name no action (`glacier upload --help VAULT`) leave the command's page.
        let topic = match args.subcommand().ok().flatten() {
            Some(action) if help::has_action(&format!("{name} {action}")) => {
                format!("{name} {action}")
            }
            _ => name,
        };
        return Ok((global, Command::Help(Some(topic))));
    }
    global.limit_rate = limit_rate(&name, &mut args)?;
    let cmd = match name.as_str() {
        "help" => {
            let rest = args.positionals()?;
            Command::Help((!rest.is_empty()).then(|| rest.join(" ")))
        }
        "version" => {
            args.finish_empty()?;
            Command::Version
        }
        "tree-hash" => Command::TreeHash(tree_hash::TreeHashCmd::parse(args)?),
        "vault" => Command::Vault(vault::VaultCmd::parse(args)?),
        "jobs" => Command::Jobs(jobs::JobsCmd::parse(args)?),
        "uploads" => Command::Uploads(uploads::UploadsCmd::parse(args)?),
        "archive" => Command::Archive(archive::ArchiveCmd::parse(args)?),
        "upload" => Command::Upload(upload::UploadCmd::parse(args)?),
        "inventory" => Command::Inventory(inventory::InventoryCmd::parse(args)?),
        other => {
            return Err(Error::Usage(format!(
                "unknown command '{other}' (see 'glacier --help')"
            )));
        }
    };
    Ok((global, cmd))
}

/// `--limit-rate`, taken here for the commands that move archive bytes (their own parsers
/// never see it; elsewhere it stays an unknown flag), as one limit for every client the
/// run builds.
/// Where every command keeps its state (upload receipts and resume state, purge
/// journals): `$XDG_DATA_HOME/glacier-upload`, else `~/.local/share/glacier-upload`. A
/// relative `XDG_DATA_HOME` is ignored, as the XDG Base Directory specification says.
pub(crate) fn data_dir(env: &dyn Env) -> Option<std::path::PathBuf> {
    env.var("XDG_DATA_HOME")
        .filter(|v| std::path::Path::new(v).is_absolute())
        .map(std::path::PathBuf::from)
        .or_else(|| env.home().map(|h| h.join(".local/share")))
        .map(|d| d.join("glacier-upload"))
}

/// The default worker count of the commands that hash on every core (`tree-hash`, and
/// `upload`'s hashing): the cores available, else one.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn limit_rate(name: &str, args: &mut Args) -> Result<Option<Arc<RateLimit>>> {
    // The action word, if it comes next, without taking it from the command's parser.
    let action = args.clone().subcommand().ok().flatten();
    let words: Vec<&str> = std::iter::once(name).chain(action.as_deref()).collect();
    if !flags::LIMIT_RATE_COMMANDS
        .iter()
        .any(|c| words.starts_with(c))
    {
        return Ok(None);
    }
    let rate = args.parsed(&flags::LIMIT_RATE, flags::parse_limit_rate)?;
    Ok(rate.map(RateLimit::new))
}

/// Runs a parsed command, writing results to `out`.
pub(crate) fn run(global: &Global, cmd: Command, out: &mut Output) -> Result<()> {
    match cmd {
        Command::Help(topic) => out.text(&help::page(topic.as_deref())?),
        Command::Generate(kind) => out.text(&generate::generate(kind)),
        Command::Version => out.line(&format!("glacier {}", env!("CARGO_PKG_VERSION"))),
        Command::TreeHash(c) => c.run(global, out),
        Command::Vault(c) => c.run(global, out),
        Command::Jobs(c) => c.run(global, out),
        Command::Uploads(c) => c.run(global, out),
        Command::Archive(c) => c.run(global, out),
        Command::Upload(c) => c.run(global, out),
        Command::Inventory(c) => c.run(global, out),
    }
}

/// The whole program: parse, run, report. Returns the exit code.
pub fn main(argv: Vec<std::ffi::OsString>) -> i32 {
    // The library names settings; the CLI's words for them are its flags.
    error::name_settings(flags::setting_flag);
    // The library names what to do next; the CLI's words for it are its commands.
    error::name_actions(help::action_command);
    let mut out = Output::stdout();
    let result = parse(argv).and_then(|(global, cmd)| run(&global, cmd, &mut out));
    let result = result.and_then(|()| out.flush());
    match result {
        Ok(()) => 0,
        Err(e) => {
            match &e {
                Error::Reported | Error::BrokenPipe => {}
                _ => eprintln!("glacier: {}", error::chain(&e)),
            }
            match e.exit_code() {
                // 130, 143 or 129: which signal interrupted the command.
                error::EXIT_INTERRUPTED => crate::signals::interrupted_exit_code(),
                code => code,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::data_dir;
    use crate::config::MapEnv;
    use std::path::PathBuf;

    #[test]
    fn data_dir_follows_xdg_then_home() {
        let home = MapEnv::new().with_home("/home/u");
        assert_eq!(
            data_dir(&home),
            Some(PathBuf::from("/home/u/.local/share/glacier-upload"))
        );
        let xdg = MapEnv::new()
            .with_home("/home/u")
            .with("XDG_DATA_HOME", "/d");
        assert_eq!(data_dir(&xdg), Some(PathBuf::from("/d/glacier-upload")));
        // A relative XDG_DATA_HOME is invalid by the specification: HOME's is used.
        let rel = MapEnv::new()
            .with_home("/home/u")
            .with("XDG_DATA_HOME", "d");
        assert_eq!(
            data_dir(&rel),
            Some(PathBuf::from("/home/u/.local/share/glacier-upload"))
        );
        assert_eq!(data_dir(&MapEnv::new()), None);
    }
}
