//! The command line: argv in, a typed command out, results printed.
//!
//! Flags are taken low-level first with pico-args (global flags from anywhere on the
//! line, then the subcommand's own), validated into typed values, and anything left that
//! looks like a flag is a usage error naming it. This is the only module that reads argv
//! and the environment for options, and the only one that prints results. Each command
//! lives in its own file with its parser and its runner.

mod args;
mod help;
mod output;
mod tree_hash;

pub use args::Args;
pub use output::Output;

use crate::error::{self, Error, Result};

/// Options that apply to every command and may stand before or after it.
#[derive(Debug, Clone, Default)]
pub struct Global {
    /// `--json`: machine-readable output on stdout.
    pub json: bool,
    /// `--quiet`: no progress and no notes on stderr.
    pub quiet: bool,
    /// `--verbose`: log each request on stderr.
    pub verbose: bool,
}

impl Global {
    fn parse(args: &mut Args) -> Result<Global> {
        Ok(Global {
            json: args.flag("--json"),
            quiet: args.flag_short("-q", "--quiet"),
            verbose: args.flag_short("-v", "--verbose"),
        })
    }

    /// Should progress be drawn? Only on a terminal, and never with `--quiet`.
    pub fn progress_enabled(&self) -> bool {
        use std::io::IsTerminal;
        !self.quiet && std::io::stderr().is_terminal()
    }
}

/// A parsed command line.
#[derive(Debug)]
pub enum Command {
    /// Print help: the overview, or one command's page.
    Help(Option<String>),
    /// Print the version.
    Version,
    /// `glacier tree-hash`.
    TreeHash(tree_hash::TreeHashCmd),
}

/// Parses argv (without the program name) into the global options and a command.
pub fn parse(argv: Vec<std::ffi::OsString>) -> Result<(Global, Command)> {
    let mut args = Args::new(argv)?;
    let global = Global::parse(&mut args)?;
    let help = args.flag_short("-h", "--help");
    if args.flag_short("-V", "--version") {
        return Ok((global, Command::Version));
    }
    let Some(name) = args.subcommand()? else {
        args.finish_empty()?;
        return Ok((global, Command::Help(None)));
    };
    if help {
        return Ok((global, Command::Help(Some(name))));
    }
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
        other => {
            return Err(Error::Usage(format!(
                "unknown command '{other}' (see 'glacier --help')"
            )));
        }
    };
    Ok((global, cmd))
}

/// Runs a parsed command, writing results to `out`.
pub fn run(global: &Global, cmd: Command, out: &mut Output) -> Result<()> {
    match cmd {
        Command::Help(topic) => out.text(&help::page(topic.as_deref())?),
        Command::Version => out.line(&format!("glacier {}", env!("CARGO_PKG_VERSION"))),
        Command::TreeHash(c) => c.run(global, out),
    }
}

/// The whole program: parse, run, report. Returns the exit code.
pub fn main(argv: Vec<std::ffi::OsString>) -> i32 {
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
            e.exit_code()
        }
    }
}
