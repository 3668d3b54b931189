//! Low-level argument access on top of pico-args.
//!
//! pico-args finds flags anywhere on the line, which gives "global flags before or after
//! the subcommand" for free. Two things it does not do are handled here: `--` ends flag
//! parsing (everything after it is positional, even `--json`), and positional IDs that
//! start with `-` (Glacier archive IDs can) are told apart from unknown flags.

use std::ffi::OsString;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The remaining command line.
#[derive(Debug)]
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

    /// Takes a boolean flag (long form only).
    pub fn flag(&mut self, long: &'static str) -> bool {
        let mut seen = false;
        while self.inner.contains(long) {
            seen = true;
        }
        seen
    }

    /// Takes a boolean flag with a short and a long form.
    pub fn flag_short(&mut self, short: &'static str, long: &'static str) -> bool {
        let mut seen = false;
        while self.inner.contains([short, long]) {
            seen = true;
        }
        seen
    }

    /// Takes the value of `name` (and its other spellings in `aliases`), parsed as `T`.
    /// A bad value is a usage error naming the flag and the value.
    pub fn value<T>(&mut self, names: &[&'static str]) -> Result<Option<T>>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let mut found: Option<(String, &'static str)> = None;
        for &name in names {
            loop {
                let v: Option<String> = self
                    .inner
                    .opt_value_from_fn(name, |s| Ok::<_, String>(s.to_string()))
                    .map_err(|e| match e {
                        pico_args::Error::OptionWithoutAValue(_) => {
                            Error::Usage(format!("{name} needs a value"))
                        }
                        other => Error::Usage(format!("{name}: {other}")),
                    })?;
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
        match found {
            None => Ok(None),
            Some((v, name)) => v
                .parse::<T>()
                .map(Some)
                .map_err(|e| Error::Usage(format!("{name} '{v}': {e}"))),
        }
    }

    /// Takes every value of a repeatable flag (`--include A --include B`), in order.
    pub fn values(&mut self, name: &'static str) -> Result<Vec<String>> {
        self.inner
            .values_from_fn(name, |s| Ok::<_, String>(s.to_string()))
            .map_err(|e| match e {
                pico_args::Error::OptionWithoutAValue(_) => {
                    Error::Usage(format!("{name} needs a value"))
                }
                other => Error::Usage(format!("{name}: {other}")),
            })
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

    #[test]
    fn flags_anywhere_and_dash_dash() {
        let mut a = args(&["x", "--json", "y", "--", "--json", "-z"]);
        assert!(a.flag("--json"));
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
        let mut a = args(&["--threads", "x"]);
        let e = a.value::<usize>(&["--threads"]).expect_err("bad");
        assert!(e.to_string().starts_with("--threads 'x':"), "{e}");
        let mut a = args(&["--threads=4"]);
        assert_eq!(a.value::<usize>(&["--threads", "-t"]).expect("ok"), Some(4));
        let mut a = args(&["-t", "2", "--threads", "3"]);
        assert!(a.value::<usize>(&["--threads", "-t"]).is_err());
        let mut a = args(&["--threads"]);
        assert!(a.value::<usize>(&["--threads"]).is_err());
        let mut a = args(&["--threads", "2", "--threads=3"]);
        let e = a.value::<usize>(&["--threads"]).expect_err("twice");
        assert_eq!(e.to_string(), "--threads given more than once");
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
