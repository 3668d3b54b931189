//! Every command-line flag, defined once: its spellings, value name, default, one-line
//! help and how its value is checked.
//!
//! A [`Flag`] is the single source for three things that used to drift apart: the parser
//! (`Args::switch`, `Args::whole`, `Args::choice`... take a `&Flag` and read every
//! spelling it lists), the option lists of `glacier help COMMAND` (generated from the
//! per-command lists at the bottom of this file by [`options`]), and the tests that hold
//! the command reference (docs/commands.md) and help to the parser (in this file: every flag a
//! command's parser accepts is on its help page, and every flag the reference names exists).
//!
//! Adding or converting a flag is mechanical:
//! 1. add a `pub const NAME: Flag = Flag { long: "--name", ..Flag::SWITCH }` (or
//!    `..Flag::VALUE` with `value: Some("N")`) to `flags/defs.rs`, with its help line
//!    and default;
//! 2. add `&NAME` to the list of the command that accepts it (`UPLOAD`, `EXPORT`...);
//!    a new command gets a new list and a `help.rs` page that calls `options`;
//! 3. in the command's `parse`, the old string-list calls (removed from `Args`) become
//!    typed ones: `args.flag("--name")` / `flag_short` -> `args.switch(&flags::NAME)`;
//!    `args.value::<String>(&[..])` -> `args.text`; `PathBuf` -> `args.path`; a
//!    number -> `args.whole`; a fixed set of words -> `args.choice` (with `choices`
//!    in the definition); a description -> `args.description`; anything else ->
//!    `args.parsed(&NAME, |v| ...)` with a `Result<T, String>` reason;
//!    `args.values("--x")` -> `args.texts`. Errors then read `--name 'value' is not a
//!    whole number` / `--name 'value': why`, naming the spelling typed;
//! 4. if the command is new, add its words and positionals to the probe table in the
//!    tests below (`every_command_is_probed` fails until you do).
//!
//! The `default` shown in help is text; where the parser falls back to a constant, a
//! test below checks that the two agree.

mod defs;
mod generate;
mod name;
mod plan;
mod rate;

pub use defs::*;
pub use generate::*;
pub use name::*;
pub use plan::*;
pub use rate::*;

use crate::error::Setting;

/// One command-line flag.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// The long spelling, `--threads`: the name errors use.
    pub long: &'static str,
    /// The one-letter spelling, `-t`.
    pub short: Option<&'static str>,
    /// Other accepted spellings (kept for compatibility with other tools).
    pub aliases: &'static [&'static str],
    /// The value's name in help (`N`, `FILE`); `None` for a switch that takes no value.
    pub value: Option<&'static str>,
    /// What happens without the flag, as help shows it.
    pub default: Option<&'static str>,
    /// One line of help; `\n` continues it on the next line of the page.
    pub help: &'static str,
    /// The accepted values of an enumerated flag (checked by `Args::choice`).
    pub choices: &'static [&'static str],
}

impl Flag {
    /// A switch without aliases, default or choices: the base for `..Flag::SWITCH`.
    pub const SWITCH: Flag = Flag {
        long: "",
        short: None,
        aliases: &[],
        value: None,
        default: None,
        help: "",
        choices: &[],
    };

    /// The base for a flag that takes a value (set `value` too).
    pub const VALUE: Flag = Flag {
        value: Some("VALUE"),
        ..Flag::SWITCH
    };

    /// Every spelling, the long one first.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.long)
            .chain(self.short)
            .chain(self.aliases.iter().copied())
    }
}

/// Help lines are wrapped at this many columns (where a default or alias would pass it).
const PAGE_WIDTH: usize = 88;

/// The help lines for `flags`: `  -t, --threads N   help (default: 4) (alias: ...)`, the
/// help column aligned within the list.
pub fn options(flags: &[&Flag]) -> String {
    let left = |f: &Flag| {
        let short = match f.short {
            Some(s) => format!("{s}, "),
            None => "    ".to_string(),
        };
        match f.value {
            Some(v) => format!("  {short}{} {v}", f.long),
            None => format!("  {short}{}", f.long),
        }
    };
    let width = flags.iter().map(|f| left(f).len()).max().unwrap_or(0) + 2;
    let mut out = String::new();
    for f in flags {
        let mut lines: Vec<String> = f.help.lines().map(|l| l.trim().to_string()).collect();
        let default = f.default.map(|d| format!("(default: {d})"));
        let alias = (!f.aliases.is_empty()).then(|| format!("(alias: {})", f.aliases.join(", ")));
        for extra in default.iter().chain(alias.iter()) {
            // A default may hold its own line breaks; its first line goes where it fits.
            let mut extra_lines = extra.lines();
            let first = extra_lines.next().unwrap_or("");
            match lines.last_mut() {
                Some(last) if width + last.len() + 1 + first.len() <= PAGE_WIDTH => {
                    last.push(' ');
                    last.push_str(first);
                }
                _ => lines.push(first.to_string()),
            }
            lines.extend(extra_lines.map(|l| l.trim().to_string()));
        }
        for (i, l) in lines.iter().enumerate() {
            let head = if i == 0 { left(f) } else { String::new() };
            out.push_str(&format!("{head:width$}{l}\n"));
        }
    }
    out
}

// ---- What each command accepts: its parser takes these, its help page lists them ------

/// Global flags (the overview page).
pub const GLOBAL: &[&Flag] = &[
    &JSON,
    &QUIET,
    &VERBOSE,
    &REGION,
    &PROFILE,
    &ENDPOINT_URL,
    &ACCOUNT_ID,
    &ALLOW_HTTP,
    &MAX_ATTEMPTS,
    &CONNECT_TIMEOUT,
    &TIMEOUT,
    &HELP,
    &VERSION,
    &GENERATE,
];
/// `tree-hash`.
pub const TREE_HASH: &[&Flag] = &[&HASH_THREADS, &SHA256, &STATS];
/// `upload`.
pub const UPLOAD: &[&Flag] = &[
    &DESCRIPTION,
    &PART_SIZE,
    &UPLOAD_THREADS,
    &MAX_MEMORY,
    &UPLOAD_ID,
    &NO_RESUME,
    &COMPRESSION,
    &XZ_LEVEL,
    &RECEIPTS,
    &NO_RECEIPTS,
    &LIMIT_RATE,
];
/// `archive init-retrieval`.
pub const ARCHIVE_INIT: &[&Flag] = &[
    &RETRIEVAL_TIER,
    &RANGE,
    &JOB_DESCRIPTION,
    &SNS_TOPIC,
    &WAIT_START,
    &ARCHIVE_NAME,
    &NAME_INVENTORY,
];
/// `archive get`.
pub const ARCHIVE_GET: &[&Flag] = &[&WAIT_GET, &GET_THREADS, &CHUNK_SIZE, &FORCE, &LIMIT_RATE];
/// `inventory init-retrieval`.
pub const INVENTORY_INIT: &[&Flag] = &[
    &JOB_FORMAT,
    &START_DATE,
    &END_DATE,
    &LIMIT,
    &MARKER,
    &JOB_DESCRIPTION,
    &WAIT_START,
];
/// `inventory get`.
pub const INVENTORY_GET: &[&Flag] = &[&WAIT_GET, &RENDER, &OUTPUT, &FORCE, &LIMIT_RATE];
/// `jobs list`.
pub const JOBS_LIST: &[&Flag] = &[&COMPLETED, &STATUS];
/// `vault export`.
pub const EXPORT: &[&Flag] = &[
    &EXPORT_TIER,
    &INVENTORY_FILE,
    &INVENTORY_JOB,
    &INCLUDE,
    &EXCLUDE,
    &CREATED_AFTER,
    &CREATED_BEFORE,
    &SHARD,
    &NAMES,
    &MAX_JOBS,
    &MAX_PENDING,
    &EXPORT_MAX_BYTES_PER_DAY,
    &EXPORT_THREADS,
    &POLL,
    &NO_WAIT,
    &DRY_RUN,
    &STORAGE_CLASS,
    &S3_ENDPOINT_URL,
    &S3_PART_SIZE,
    &EXPORT_MAX_MEMORY,
    &EXPORT_JOURNAL,
    &LIMIT_RATE,
];
/// `vault purge`: where the inventory comes from and what is in scope as for export,
/// then its own flags.
pub const PURGE: &[&Flag] = &[
    &INVENTORY_FILE,
    &INVENTORY_JOB,
    &INCLUDE,
    &EXCLUDE,
    &CREATED_AFTER,
    &CREATED_BEFORE,
    &SHARD,
    &ONLY_EXPORTED,
    &S3_ENDPOINT_URL,
    &PURGE_JOURNAL,
    &PURGE_THREADS,
    &YES,
    &PURGE_DRY_RUN,
    &DELETE_VAULT,
    &PURGE_WAIT,
];
/// `archive delete`.
pub const ARCHIVE_DELETE: &[&Flag] = &[&DELETE_THREADS];
/// `vault plan`: the inventory and selection flags of export, then its own.
pub const PLAN: &[&Flag] = &[
    &PLAN_TO,
    &INVENTORY_FILE,
    &INVENTORY_JOB,
    &INCLUDE,
    &EXCLUDE,
    &CREATED_AFTER,
    &CREATED_BEFORE,
    &SHARD,
    &NAMES,
    &S3_PART_SIZE,
    &PLAN_MAX_BYTES_PER_DAY,
    &PRICES,
];
/// `vault delete`.
pub const VAULT_DELETE: &[&Flag] = &[&WHEN_EMPTY, &WAIT_EMPTY, &NO_WAIT_EMPTY, &POLL_EMPTY];

/// The flag that sets each library [`Setting`]: the words the library's messages use once
/// `cli::main` installs this ([`crate::error::name_settings`]).
pub fn setting_flag(setting: Setting) -> &'static str {
    let flag = match setting {
        Setting::PartSize => PART_SIZE,
        Setting::MaxMemory => MAX_MEMORY,
        Setting::XzLevel => XZ_LEVEL,
        Setting::Compression => COMPRESSION,
        Setting::Description => DESCRIPTION,
        Setting::NoResume => NO_RESUME,
        Setting::UploadId => UPLOAD_ID,
        Setting::Force => FORCE,
        Setting::Region => REGION,
        Setting::EndpointUrl => ENDPOINT_URL,
        Setting::S3EndpointUrl => S3_ENDPOINT_URL,
        Setting::AccountId => ACCOUNT_ID,
        Setting::Profile => PROFILE,
        Setting::StorageClass => STORAGE_CLASS,
        Setting::Format => RENDER,
        Setting::Shard => SHARD,
        Setting::CreatedRange => return "--created-after/--created-before",
        Setting::Journal => EXPORT_JOURNAL,
        Setting::Inventory => INVENTORY_FILE,
        Setting::InventoryJob => INVENTORY_JOB,
        Setting::MaxBytesPerDay => EXPORT_MAX_BYTES_PER_DAY,
        Setting::Timeout => TIMEOUT,
        Setting::AllowHttp => ALLOW_HTTP,
        Setting::OnlyExported => ONLY_EXPORTED,
        Setting::WhenEmpty => WHEN_EMPTY,
    };
    flag.long
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The one setting without a single flag is named by the two it has.
    #[test]
    fn settings_are_named_by_their_flags() {
        use super::{CREATED_AFTER, CREATED_BEFORE, PART_SIZE, Setting, setting_flag};
        assert_eq!(setting_flag(Setting::PartSize), PART_SIZE.long);
        assert_eq!(
            setting_flag(Setting::CreatedRange),
            format!("{}/{}", CREATED_AFTER.long, CREATED_BEFORE.long)
        );
    }
    use std::ffi::OsString;

    use super::*;
    use crate::error::Error;

    const ARCHIVE_ID: &str = "NkbByEejwEggmBz2fTHgJrg0XBoDfjP4q6iu87-TjhqG6eGoOY9Z8i1_AUyUsuhPAdTqLHy8pTl5nfCFJmDl2yEZONi5L26Omw12vcs01MNGntHEQL8MBfGlqrEXAMPLEArchiveId";
    const JOB_ID: &str = "HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVh7vEXAMPLEjobID";
    const UPLOAD_ID: &str = "OW2fM5iVylEpFEMM9_HpKowRapC3vn5sSL39_396UW9zLFUWVrnRHaPjUJddQ5OxSHVXjYtrN47NBZ-khxOjyEXAMPLE";

    /// Every command the parser knows, with positionals that get it past `exact`, and
    /// the flags it should accept. `every_command_is_probed` keeps this table whole.
    fn commands() -> Vec<(
        Vec<&'static str>,
        Vec<&'static str>,
        &'static [&'static Flag],
    )> {
        vec![
            (vec!["tree-hash"], vec!["x"], TREE_HASH),
            (vec!["upload"], vec!["v", "x"], UPLOAD),
            (
                vec!["archive", "init-retrieval"],
                vec!["v", ARCHIVE_ID],
                ARCHIVE_INIT,
            ),
            (
                vec!["archive", "get"],
                vec!["v", JOB_ID, "/nonexistent/out"],
                ARCHIVE_GET,
            ),
            (
                vec!["archive", "delete"],
                vec!["v", ARCHIVE_ID],
                ARCHIVE_DELETE,
            ),
            (
                vec!["inventory", "init-retrieval"],
                vec!["v"],
                INVENTORY_INIT,
            ),
            (vec!["inventory", "get"], vec!["v", JOB_ID], INVENTORY_GET),
            (vec!["jobs", "list"], vec!["v"], JOBS_LIST),
            (vec!["jobs", "describe"], vec!["v", JOB_ID], &[]),
            (vec!["uploads", "list"], vec!["v"], &[]),
            (vec!["uploads", "parts"], vec!["v", UPLOAD_ID], &[]),
            (vec!["uploads", "abort"], vec!["v", UPLOAD_ID], &[]),
            (vec!["vault", "list"], vec![], &[]),
            (vec!["vault", "describe"], vec!["v"], &[]),
            (vec!["vault", "create"], vec!["v"], &[]),
            (vec!["vault", "delete"], vec!["v"], VAULT_DELETE),
            (vec!["vault", "plan"], vec!["v"], PLAN),
            (
                vec!["vault", "export"],
                vec!["v", "/nonexistent/dir"],
                EXPORT,
            ),
            (vec!["vault", "purge"], vec!["v"], PURGE),
            (vec!["version"], vec![], &[]),
        ]
    }

    fn parse(argv: &[&str]) -> crate::error::Result<()> {
        super::super::parse(argv.iter().map(OsString::from).collect()).map(|_| ())
    }

    /// Does the parser of `words` take `flag` (as a switch or with the next argument as
    /// its value)? Anything but "unknown flag 'FLAG'" means it does.
    fn accepts(words: &[&str], positionals: &[&str], flag: &str) -> bool {
        let mut argv = words.to_vec();
        argv.push(flag);
        argv.extend(positionals);
        match parse(&argv) {
            Err(Error::Usage(m)) => !m.starts_with(&format!("unknown flag '{flag}'")),
            _ => true,
        }
    }

    /// The `-x` / `--long-name` tokens in `text`.
    fn flag_tokens(text: &str) -> BTreeSet<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|t| {
                let long = t.strip_prefix("--").is_some_and(|r| {
                    r.starts_with(|c: char| c.is_ascii_lowercase())
                        && r.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                });
                let short = t.len() == 2
                    && t.starts_with('-')
                    && t[1..].starts_with(|c: char| c.is_ascii_alphabetic());
                long || short
            })
            .map(str::to_string)
            .collect()
    }

    fn all_lists() -> Vec<&'static [&'static Flag]> {
        vec![
            GLOBAL,
            TREE_HASH,
            UPLOAD,
            ARCHIVE_INIT,
            ARCHIVE_GET,
            INVENTORY_INIT,
            INVENTORY_GET,
            JOBS_LIST,
            EXPORT,
            PURGE,
            ARCHIVE_DELETE,
            PLAN,
            VAULT_DELETE,
        ]
    }

    /// Every flag-looking string in the parser's sources (`src/cli/*.rs`), in the
    /// definitions and in the README and command reference: the names worth probing the parser with.
    fn candidates() -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/cli"
        ))];
        let mut files = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).expect("src/cli") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        assert!(files.len() > 10, "found the sources");
        for path in files {
            let text = std::fs::read_to_string(&path).expect("source");
            for lit in text.split('"').skip(1).step_by(2) {
                out.extend(flag_tokens(lit).into_iter().filter(|t| t == lit));
            }
        }
        for list in all_lists() {
            out.extend(list.iter().flat_map(|f| f.names()).map(String::from));
        }
        out.extend(flag_tokens(include_str!("../../README.md")));
        out.extend(flag_tokens(include_str!("../../docs/commands.md")));
        out
    }

    #[test]
    fn every_command_is_probed() {
        let table: BTreeSet<String> = commands().iter().map(|(w, _, _)| w.join(" ")).collect();
        // The commands the overview lists, and the actions each of them offers (from the
        // parser's own "needs one of" message), must all be in the probe table.
        let overview = super::super::help::page(None).expect("overview");
        let section = overview
            .split("Commands:\n")
            .nth(1)
            .and_then(|s| s.split("\n\n").next())
            .expect("Commands section");
        for line in section.lines() {
            let word = line.split_whitespace().next().expect("command word");
            if word == "help" {
                continue;
            }
            match parse(&[word]) {
                Err(Error::Usage(m)) if m.contains("needs one of: ") => {
                    let actions = m.split("needs one of: ").nth(1).expect("list");
                    let actions = actions.split(" (").next().expect("list");
                    for a in actions.split(", ") {
                        let cmd = format!("{word} {a}");
                        assert!(table.contains(&cmd), "'{cmd}' is not probed here");
                    }
                }
                _ => assert!(table.contains(word), "'{word}' is not probed here"),
            }
        }
    }

    #[test]
    fn every_flag_a_command_accepts_is_on_its_help_page() {
        let candidates = candidates();
        let global: BTreeSet<&str> = GLOBAL.iter().flat_map(|f| f.names()).collect();
        for (words, positionals, list) in commands() {
            let topic = words.join(" ");
            // `version` has no page of its own: the overview describes it.
            let page_topic = (topic != "version").then_some(topic.as_str());
            let page = super::super::help::page(page_topic).expect("page");
            let listed = flag_tokens(&page);
            for c in &candidates {
                if accepts(&words, &positionals, c) {
                    assert!(
                        listed.contains(c) || global.contains(c.as_str()),
                        "'glacier {topic}' accepts {c}, but 'glacier help {topic}' does not list it"
                    );
                }
            }
            // And the other way: what the definitions say it takes, it takes.
            for name in list.iter().flat_map(|f| f.names()) {
                assert!(
                    accepts(&words, &positionals, name),
                    "'glacier {topic}' lists {name} but does not parse it"
                );
                assert!(listed.contains(name), "{name} missing from 'help {topic}'");
            }
        }
        // Global flags are taken by every command and listed on the overview.
        let overview = flag_tokens(&super::super::help::page(None).expect("overview"));
        for name in &global {
            assert!(overview.contains(*name), "{name} missing from the overview");
            assert!(accepts(&["vault", "list"], &[], name), "{name} not parsed");
        }
    }

    #[test]
    fn the_probe_sees_an_unknown_flag() {
        // The test above relies on this: a flag nobody parses is reported as unknown.
        assert!(!accepts(&["upload"], &["v", "x"], "--bogus"));
        assert!(!accepts(&["vault", "list"], &[], "-d"));
        assert!(accepts(&["upload"], &["v", "x"], "--arc-desc"));
    }

    #[test]
    fn the_command_reference_names_no_flag_the_parser_lacks() {
        // The command reference moved from the README to docs/commands.md; the README's
        // own commands are parsed by tests/docs.rs.
        let commands = include_str!("../../docs/commands.md");
        let defined: BTreeSet<&str> = all_lists()
            .into_iter()
            .flatten()
            .flat_map(|f| f.names())
            .collect();
        let tokens = flag_tokens(commands);
        assert!(tokens.contains("--part-size"), "the scan finds flags");
        for t in tokens {
            assert!(
                defined.contains(t.as_str()),
                "docs/commands.md names {t}, which no command defines"
            );
            assert!(
                commands_accepting(&t) > 0,
                "docs/commands.md names {t}, which no command parses"
            );
        }
    }

    fn commands_accepting(flag: &str) -> usize {
        commands()
            .iter()
            .filter(|(w, p, _)| accepts(w, p, flag))
            .count()
    }

    #[test]
    fn defaults_shown_are_the_defaults_used() {
        use super::super::{archive, export, purge, scope, upload};
        let shown = |f: &Flag| f.default.expect("has a default").to_string();
        assert_eq!(shown(&UPLOAD_THREADS), upload::DEFAULT_THREADS.to_string());
        assert_eq!(
            shown(&MAX_MEMORY),
            upload::DEFAULT_MAX_MEMORY_MIB.to_string()
        );
        assert_eq!(shown(&XZ_LEVEL), crate::pack::DEFAULT_XZ_LEVEL.to_string());
        assert_eq!(shown(&GET_THREADS), archive::DEFAULT_THREADS.to_string());
        assert_eq!(
            shown(&CHUNK_SIZE),
            (crate::download::DEFAULT_CHUNK_SIZE >> 20).to_string()
        );
        assert_eq!(shown(&MAX_JOBS), export::DEFAULT_MAX_JOBS.to_string());
        assert_eq!(shown(&EXPORT_THREADS), export::DEFAULT_THREADS.to_string());
        assert_eq!(
            shown(&S3_PART_SIZE),
            format!("{}M", scope::DEFAULT_S3_PART_SIZE >> 20)
        );
        assert_eq!(
            shown(&EXPORT_MAX_MEMORY),
            (crate::export::s3::DEFAULT_MAX_MEMORY >> 20).to_string()
        );
        assert_eq!(shown(&PURGE_THREADS), purge::DEFAULT_THREADS.to_string());
        assert_eq!(
            shown(&DELETE_THREADS),
            archive::DEFAULT_DELETE_THREADS.to_string()
        );
        assert_eq!(
            shown(&MAX_ATTEMPTS),
            crate::glacier::RetryPolicy::default()
                .max_attempts
                .to_string()
        );
    }

    #[test]
    fn the_vault_page_says_where_counts_come_from_once() {
        let page = super::super::help::page(Some("vault")).expect("page");
        assert_eq!(
            page.matches("Archive counts and sizes").count(),
            1,
            "{page}"
        );
    }

    #[test]
    fn option_lists_align_and_wrap() {
        let text = options(&[&SHA256, &UPLOAD_THREADS]);
        assert_eq!(
            text,
            "      --sha256     also print the plain SHA-256 of the whole file\n  \
             -t, --threads N  parts in flight, 1 to 64 (default: 4) (alias: --num-threads)\n"
        );
        for list in all_lists() {
            for line in options(list).lines() {
                assert!(line.len() <= PAGE_WIDTH, "too wide: {line}");
            }
        }
    }
}
