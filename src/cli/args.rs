//! Low-level argument access on top of pico-args.
//!
//! pico-args finds flags anywhere on the line, which gives "global flags before or after
//! the subcommand" for free. Two things it does not do are handled here: `--` ends flag
//! parsing (everything after it is positional, even `--json`), and positional IDs that
//! start with `-` (Glacier archive IDs can) are told apart from unknown flags.

use std::ffi::OsString;
use std::path::PathBuf;

use super::flags::Flag;
use crate::error::{Error, Result};
use crate::glacier::Description;

/// The remaining command line.
#[derive(Debug, Clone)]
pub struct Args {
    inner: pico_args::Arguments,
    /// Everything after a `--`: positional, never flags.
    tail: Vec<String>,
}

fn utf8(a: OsString) -> Result<String> {
    a.into_string()
        .map_err(|a| Error::Usage(format!("argument {a:?} is not valid UTF-8")))
}

/// An argument that starts with `-` but is a positional value, not a flag: `-` itself
/// (stdin), or an ID made of Glacier's ID alphabet and far longer than any flag. Archive
/// IDs are 138 characters, job and upload IDs 92.
pub fn is_dash_value(s: &str) -> bool {
    s == "-"
        || (s.len() >= 40
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

fn missing_value(name: &str, e: pico_args::Error) -> Error {
    match e {
        pico_args::Error::OptionWithoutAValue(_) => Error::Usage(format!("{name} needs a value")),
        other => Error::Usage(format!("{name}: {other}")),
    }
}

/// `a, b or c`.
pub fn one_of(choices: &[&str]) -> String {
    match choices {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

impl Args {
    /// Wraps argv (without the program name).
    pub fn new(argv: Vec<OsString>) -> Result<Args> {
        let mut head = argv;
        let mut tail = Vec::new();
        if let Some(i) = head.iter().position(|a| a == "--") {
            tail = head.split_off(i + 1);
            head.pop();
        }
        let tail = tail.into_iter().map(utf8).collect::<Result<_>>()?;
        // pico-args strips a quote pair around the value of `--flag=value` and refuses
        // ("needs a value") one that opens a quote without closing it, so
        // `--description='"x'` would lose or fail on a quote the shell left in on
        // purpose. Given as two arguments, the value is taken verbatim.
        let head = head
            .into_iter()
            .flat_map(|a| match a.to_str().and_then(|s| s.split_once('=')) {
                Some((flag, value)) if flag.starts_with('-') && value.starts_with(['"', '\'']) => {
                    vec![OsString::from(flag), OsString::from(value)]
                }
                _ => vec![a],
            })
            .collect();
        Ok(Args {
            inner: pico_args::Arguments::from_vec(head),
            tail,
        })
    }

    /// Takes a switch (any of its spellings, any number of times).
    pub fn switch(&mut self, flag: &Flag) -> bool {
        let mut seen = false;
        for name in flag.names() {
            while self.inner.contains(name) {
                seen = true;
            }
        }
        seen
    }

    /// Takes the text value of `flag`, whichever spelling gave it. Given twice is a usage
    /// error naming both spellings.
    pub fn text(&mut self, flag: &Flag) -> Result<Option<String>> {
        Ok(self.given(flag)?.map(|(v, _)| v))
    }

    /// The value of `flag` and the spelling the user gave it with (`-p` or
    /// `--part-size`), so that an error names what was typed.
    fn given(&mut self, flag: &Flag) -> Result<Option<(String, &'static str)>> {
        let mut found: Option<(String, &'static str)> = None;
        for name in flag.names() {
            loop {
                let v: Option<String> = self
                    .inner
                    .opt_value_from_fn(name, |s| Ok::<_, String>(s.to_string()))
                    .map_err(|e| missing_value(name, e))?;
                let Some(v) = v else { break };
                if let Some((_, prev)) = &found {
                    return Err(Error::Usage(if *prev == name {
                        format!("{name} given more than once")
                    } else {
                        format!("{prev} given more than once (as {prev} and {name})")
                    }));
                }
                found = Some((v, name));
            }
        }
        Ok(found)
    }

    /// Takes the value of `flag` as a path.
    pub fn path(&mut self, flag: &Flag) -> Result<Option<PathBuf>> {
        Ok(self.text(flag)?.map(PathBuf::from))
    }

    /// Takes the value of `flag` as a whole number: `--threads 'abc' is not a whole
    /// number`, `--threads '99999999999999999999' is too large` instead of Rust's parse
    /// messages.
    pub fn whole<T: TryFrom<u64>>(&mut self, flag: &Flag) -> Result<Option<T>> {
        self.parsed(flag, |v| {
            let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
            if !digits {
                return Err("is not a whole number".to_string());
            }
            v.parse::<u64>()
                .ok()
                .and_then(|n| T::try_from(n).ok())
                .ok_or_else(|| "is too large".to_string())
        })
    }

    /// Takes the value of an enumerated flag, one of `flag.choices` exactly:
    /// `--tier 'Fast': use Expedited, Standard or Bulk`.
    pub fn choice(&mut self, flag: &Flag) -> Result<Option<&'static str>> {
        self.parsed(flag, |v| {
            flag.choices
                .iter()
                .copied()
                .find(|c| *c == v)
                .ok_or_else(|| format!("use {}", one_of(flag.choices)))
        })
    }

    /// Takes the value of `flag` through `parse`, whose error completes
    /// `--flag 'value'`: a predicate starting with `is ` (`--limit 'x' is not a whole
    /// number`) or a reason after a colon (`--format 'XML': use JSON or CSV`).
    pub fn parsed<T>(
        &mut self,
        flag: &Flag,
        parse: impl FnOnce(&str) -> std::result::Result<T, String>,
    ) -> Result<Option<T>> {
        let Some((v, name)) = self.given(flag)? else {
            return Ok(None);
        };
        parse(&v).map(Some).map_err(|e| {
            let sep = if e.starts_with("is ") { " " } else { ": " };
            Error::Usage(format!("{name} '{v}'{sep}{e}"))
        })
    }

    /// Takes a description flag, checked once into a [`Description`]:
    /// `--description: a description is printable ASCII only (space to '~'), not '\t'`.
    pub fn description(&mut self, flag: &Flag) -> Result<Option<Description>> {
        let Some((v, name)) = self.given(flag)? else {
            return Ok(None);
        };
        Description::new(v)
            .map(Some)
            .map_err(|e| Error::Usage(format!("{name}: {e}")))
    }

    /// Takes every value of a repeatable flag (`--include A --include B`), in order.
    pub fn texts(&mut self, flag: &Flag) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for name in flag.names() {
            out.extend(
                self.inner
                    .values_from_fn(name, |s| Ok::<_, String>(s.to_string()))
                    .map_err(|e| missing_value(name, e))?,
            );
        }
        Ok(out)
    }

    /// Takes the subcommand word, if the next argument is one.
    pub fn subcommand(&mut self) -> Result<Option<String>> {
        self.inner
            .subcommand()
            .map_err(|e| Error::Usage(e.to_string()))
    }

    /// Everything left, as positional values. Anything that still looks like a flag is
    /// an unknown flag.
    pub fn positionals(self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for a in self.inner.finish() {
            let a = utf8(a)?;
            if a.starts_with('-') && !is_dash_value(&a) {
                let name = a.split('=').next().unwrap_or(&a);
                return Err(Error::Usage(format!(
                    "unknown flag '{name}' (see --help; put '--' before a value that starts with '-')"
                )));
            }
            out.push(a);
        }
        out.extend(self.tail);
        Ok(out)
    }

    /// Exactly the positional values `names` (for messages: `VAULT`, `JOB_ID`...).
    pub fn exact<const N: usize>(self, command: &str, names: [&str; N]) -> Result<[String; N]> {
        let got = self.positionals()?;
        // `glacier vault list` takes no values: no trailing space in its usage.
        let usage = std::iter::once(command)
            .chain(names.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        if got.len() < N {
            return Err(Error::Usage(format!(
                "{command}: missing {} (usage: glacier {usage})",
                names[got.len()..].join(" ")
            )));
        }
        if got.len() > N {
            return Err(Error::Usage(format!(
                "{command}: unexpected argument '{}' (usage: glacier {usage})",
                got[N]
            )));
        }
        Ok(got.try_into().expect("length checked above"))
    }

    /// The sub-subcommand word (`list` in `vault list`), or a usage error listing the
    /// choices.
    pub fn action(&mut self, command: &str, choices: &[&str]) -> Result<String> {
        match self.subcommand()? {
            Some(a) if choices.contains(&a.as_str()) => Ok(a),
            Some(a) => Err(Error::Usage(format!(
                "unknown command '{command} {a}' (choose: {})",
                choices.join(", ")
            ))),
            None => Err(Error::Usage(format!(
                "'{command}' needs one of: {} (see 'glacier help {command}')",
                choices.join(", ")
            ))),
        }
    }

    /// Fails if anything is left.
    pub fn finish_empty(self) -> Result<()> {
        let rest = self.positionals()?;
        match rest.first() {
            None => Ok(()),
            Some(a) => Err(Error::Usage(format!("unexpected argument '{a}'"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Args {
        Args::new(v.iter().map(OsString::from).collect()).expect("utf8")
    }

    const THREADS: Flag = Flag {
        long: "--threads",
        short: Some("-t"),
        value: Some("N"),
        ..Flag::VALUE
    };

    #[test]
    fn flags_anywhere_and_dash_dash() {
        let mut a = args(&["x", "--json", "y", "--", "--json", "-z"]);
        assert!(a.switch(&super::super::flags::JSON));
        assert_eq!(a.positionals().expect("ok"), ["x", "y", "--json", "-z"]);
    }

    #[test]
    fn long_ids_starting_with_dash_are_values_and_short_ones_are_flags() {
        let id = format!("-{}", "A".repeat(137));
        let a = args(&["vault", &id]);
        assert_eq!(a.positionals().expect("ok"), ["vault", id.as_str()]);
        let a = args(&["vault", "--bogus=1"]);
        let e = a.positionals().expect_err("unknown flag");
        assert!(e.to_string().contains("'--bogus'"), "{e}");
    }

    #[test]
    fn values_parse_and_name_the_flag() {
        let mut a = args(&["--threads=4"]);
        assert_eq!(a.whole::<usize>(&THREADS).expect("ok"), Some(4));
        let mut a = args(&["-t", "2", "--threads", "3"]);
        let e = a.whole::<usize>(&THREADS).expect_err("twice");
        assert_eq!(
            e.to_string(),
            "--threads given more than once (as --threads and -t)"
        );
        let mut a = args(&["--threads"]);
        let e = a.whole::<usize>(&THREADS).expect_err("no value");
        assert_eq!(e.to_string(), "--threads needs a value");
        let mut a = args(&["--threads", "2", "--threads=3"]);
        let e = a.whole::<usize>(&THREADS).expect_err("twice");
        assert_eq!(e.to_string(), "--threads given more than once");
    }

    #[test]
    fn bad_values_read_like_our_errors_not_rusts() {
        for (v, want) in [
            ("abc", "--threads 'abc' is not a whole number"),
            ("-1", "--threads '-1' is not a whole number"),
            ("1.5", "--threads '1.5' is not a whole number"),
            ("", "--threads '' is not a whole number"),
            ("4294967296", "--threads '4294967296' is too large"),
        ] {
            let mut a = args(&["--threads", v]);
            let e = a.whole::<u32>(&THREADS).expect_err(v);
            assert_eq!(e.to_string(), want);
        }
        const TIER: Flag = Flag {
            long: "--tier",
            choices: &["Expedited", "Standard", "Bulk"],
            ..Flag::VALUE
        };
        let mut a = args(&["--tier", "Fast"]);
        let e = a.choice(&TIER).expect_err("not a tier");
        assert_eq!(
            e.to_string(),
            "--tier 'Fast': use Expedited, Standard or Bulk"
        );
        // The error names the spelling that was typed.
        let mut a = args(&["-t", "x"]);
        let e = a.whole::<u32>(&THREADS).expect_err("x");
        assert_eq!(e.to_string(), "-t 'x' is not a whole number");
        let mut a = args(&["--tier", "Bulk"]);
        assert_eq!(a.choice(&TIER).expect("ok"), Some("Bulk"));
        let mut a = args(&["--tier", "x"]);
        let e = a
            .parsed(&TIER, |_| Err::<(), _>("expected a number of bytes".into()))
            .expect_err("bad");
        assert_eq!(e.to_string(), "--tier 'x': expected a number of bytes");
    }

    #[test]
    fn usage_lines_have_no_stray_space() {
        let e = args(&["x"]).exact("vault list", []).expect_err("extra");
        assert_eq!(
            e.to_string(),
            "vault list: unexpected argument 'x' (usage: glacier vault list)"
        );
        let e = args(&[])
            .exact("jobs list", ["VAULT"])
            .expect_err("missing");
        assert_eq!(
            e.to_string(),
            "jobs list: missing VAULT (usage: glacier jobs list VAULT)"
        );
    }
}
