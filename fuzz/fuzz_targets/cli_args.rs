//! The command-line parser (reached through `testing::parse_command`: the CLI's types are private).
//!
//! Invariants: any argv (the input split on NUL bytes, not necessarily UTF-8) parses or
//! fails with a usage-class error (exit code 2), except that a target file `archive get`
//! or `inventory get --output` checks may give an I/O error naming that very argument;
//! rendering the error never panics. Valid command lines generated from the input always
//! parse, to a command carrying their values: global flags before, between or after the
//! command words, `--flag value` or `--flag=value`, IDs starting with `-` (long ones
//! bare, short ones behind `--`), vault names starting with `-` behind `--`.
//!
//! `parse` itself opens no connection and reads no file; the only file-system access is
//! the `lstat` of a download target, so generated targets are under `/nonexistent`.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use glacier_upload::Error;
use glacier_upload::testing::parse_command;
use glacier_upload_fuzz::{Unstructured, arbitrary, nonempty_from, shuffle};
use libfuzzer_sys::fuzz_target;

const ID: &[char] = &['A', 'z', '0', '9', '-', '_'];
const VAULT: &[char] = &['a', 'Z', '5', '_', '-', '.'];
const WORD: &[char] = &['a', 'B', '3', '-', '.', '_', ':', '/'];

fn any_argv(data: &[u8]) {
    let argv: Vec<OsString> = data
        .split(|&b| b == 0)
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect();
    let texts: Vec<String> = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Err(e) = parse_command(argv) {
        let _ = glacier_upload::error::chain(&e);
        match &e {
            Error::Io { path, .. } => {
                let p = path.to_string_lossy();
                assert!(
                    texts.iter().any(|a| a.ends_with(p.as_ref())),
                    "I/O error on {p:?}, not an argument: {texts:?}"
                );
            }
            _ => assert_eq!(e.exit_code(), 2, "{e:?} for {texts:?}"),
        }
    }
}

/// One option as it goes on the line: `--name value` or `--name=value`.
fn opt(u: &mut Unstructured, names: &[&str], value: &str) -> arbitrary::Result<Vec<String>> {
    let name = *u.choose(names)?;
    // A value starting with '-' only unambiguously follows '='.
    Ok(if value.starts_with('-') || u.arbitrary()? {
        vec![format!("{name}={value}")]
    } else {
        vec![name.to_string(), value.to_string()]
    })
}

/// A Glacier ID, sometimes starting with '-'.
fn id(u: &mut Unstructured) -> arbitrary::Result<String> {
    let len = if u.arbitrary()? {
        138
    } else {
        u.int_in_range(1..=100)?
    };
    let mut s = nonempty_from(u, ID, len)?;
    if u.arbitrary()? {
        s.insert(0, '-');
    }
    Ok(s)
}

fn vault(u: &mut Unstructured) -> arbitrary::Result<String> {
    nonempty_from(u, VAULT, 20)
}

fn word(u: &mut Unstructured) -> arbitrary::Result<String> {
    let w = nonempty_from(u, WORD, 12)?;
    Ok(w.trim_start_matches('-').to_string() + "x")
}

/// The documented rule for a positional that starts with '-' (`cli::args`, private):
/// `-` itself, or 40 or more characters of the ID alphabet.
fn is_dash_value(s: &str) -> bool {
    s == "-"
        || (s.len() >= 40
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

fn pow2(u: &mut Unstructured, max_log: u32) -> arbitrary::Result<u64> {
    Ok(1u64 << u.int_in_range(0..=max_log)?)
}

/// A generated command: command words, its options, its positionals, and text its Debug
/// form must contain.
struct Generated {
    words: Vec<String>,
    options: Vec<Vec<String>>,
    positionals: Vec<String>,
    expect: Vec<String>,
}

fn command(u: &mut Unstructured) -> arbitrary::Result<Generated> {
    let w = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut g = Generated {
        words: Vec::new(),
        options: Vec::new(),
        positionals: Vec::new(),
        expect: Vec::new(),
    };
    let v = vault(u)?;
    g.expect.push(format!("{v:?}"));
    match u.int_in_range(0..=7u8)? {
        0 => {
            g.words = w(&["upload"]);
            if u.arbitrary()? {
                let p = pow2(u, 12)?;
                g.options
                    .push(opt(u, &["-p", "--part-size"], &p.to_string())?);
                g.expect.push(format!("part_size: Some({})", p << 20));
            }
            if u.arbitrary()? {
                let t = u.int_in_range(1..=64u32)?;
                g.options.push(opt(
                    u,
                    &["-t", "--threads", "--num-threads"],
                    &t.to_string(),
                )?);
                g.expect.push(format!("threads: {t}"));
            }
            if u.arbitrary()? {
                let d = nonempty_from(u, &[' ', '-', 'a', '~', '=', '"', '\''], 20)?;
                g.options
                    .push(opt(u, &["-d", "--description", "--arc-desc"], &d)?);
                g.expect.push(format!("{d:?}"));
            }
            if u.arbitrary()? {
                let l = u.int_in_range(0..=9u32)?;
                g.options.push(opt(u, &["--xz-level"], &l.to_string())?);
                g.expect.push(format!("xz_level: {l}"));
            }
            if u.arbitrary()? {
                let i = id(u)?;
                g.options.push(opt(u, &["-u", "--upload-id"], &i)?);
                g.expect.push(format!("{i:?}"));
            }
            match u.int_in_range(0..=2u8)? {
                0 => g.options.push(vec!["--no-receipts".into()]),
                1 => g
                    .options
                    .push(opt(u, &["--receipts"], "/nonexistent/receipts.jsonl")?),
                _ => {}
            }
            g.positionals.push(v);
            for _ in 0..u.int_in_range(1..=3)? {
                let f = if u.arbitrary()? {
                    "-".to_string()
                } else {
                    format!("/nonexistent/{}", word(u)?)
                };
                g.expect.push(format!("{f:?}"));
                g.positionals.push(f);
            }
        }
        1 => {
            g.words = w(&["archive", "get"]);
            if u.arbitrary()? {
                g.options.push(vec!["--wait".into()]);
            }
            if u.arbitrary()? {
                g.options.push(vec!["--force".into()]);
            }
            if u.arbitrary()? {
                let t = u.int_in_range(1..=64u32)?;
                g.options
                    .push(opt(u, &["-t", "--threads"], &t.to_string())?);
                g.expect.push(format!("threads: {t}"));
            }
            if u.arbitrary()? {
                let c = pow2(u, 10)?;
                g.options.push(opt(u, &["--chunk-size"], &c.to_string())?);
                g.expect.push(format!("chunk_size: {}", c << 20));
            }
            let j = id(u)?;
            let f = if u.arbitrary()? {
                "-".to_string()
            } else {
                format!("/nonexistent/{}", word(u)?)
            };
            g.expect.push(format!("{j:?}"));
            g.expect.push(format!("{f:?}"));
            g.positionals.extend([v, j, f]);
        }
        2 => {
            g.words = w(&["archive", "init-retrieval"]);
            if u.arbitrary()? {
                let a = u.int_in_range(0..=1u64 << 20)? << 20;
                let b = a + u.int_in_range(0..=u64::from(u32::MAX))?;
                g.options.push(opt(u, &["--range"], &format!("{a}-{b}"))?);
                g.expect.push(format!("\"{a}-{b}\""));
            }
            if u.arbitrary()? {
                let t = *u.choose(&["Expedited", "Standard", "Bulk"])?;
                g.options.push(opt(u, &["--tier"], t)?);
                g.expect.push(format!("{t:?}"));
            }
            if u.arbitrary()? {
                g.options.push(vec!["--wait".into()]);
                g.expect.push("wait: true".into());
            }
            let a = id(u)?;
            g.expect.push(format!("{a:?}"));
            g.positionals.extend([v, a]);
        }
        3 => {
            g.words = w(&["archive", "delete"]);
            let a = id(u)?;
            // A lone '-' reads the IDs from standard input (`archive delete VAULT -`).
            g.expect.push(if a == "-" {
                "ids: None".to_string()
            } else {
                format!("{a:?}")
            });
            g.positionals.extend([v, a]);
        }
        4 => {
            let action = *u.choose(&["describe", "create", "delete"])?;
            g.words = w(&["vault", action]);
            g.positionals.push(v);
        }
        5 => {
            if u.arbitrary()? {
                g.words = w(&["jobs", "list"]);
                if u.arbitrary()? {
                    let c = *u.choose(&["true", "false"])?;
                    g.options.push(opt(u, &["--completed"], c)?);
                    g.expect.push(format!("completed: Some({c})"));
                }
                if u.arbitrary()? {
                    let s = *u.choose(&["InProgress", "Succeeded", "Failed"])?;
                    g.options.push(opt(u, &["--status"], s)?);
                    g.expect.push(format!("{s:?}"));
                }
                g.positionals.push(v);
            } else {
                g.words = w(&["jobs", "describe"]);
                let j = id(u)?;
                g.expect.push(format!("{j:?}"));
                g.positionals.extend([v, j]);
            }
        }
        6 => {
            let action = *u.choose(&["list", "parts", "abort"])?;
            g.words = w(&["uploads", action]);
            g.positionals.push(v);
            if action != "list" {
                let i = id(u)?;
                g.expect.push(format!("{i:?}"));
                g.positionals.push(i);
            }
        }
        _ => {
            g.words = w(&["tree-hash"]);
            g.expect.clear();
            if u.arbitrary()? {
                let t = u.int_in_range(1..=256u32)?;
                g.options
                    .push(opt(u, &["-t", "--threads"], &t.to_string())?);
                g.expect.push(format!("threads: {t}"));
            }
            for flag in ["--sha256", "--stats"] {
                if u.arbitrary()? {
                    g.options.push(vec![flag.into()]);
                }
            }
            // Any file name that is not a flag; tree-hash only opens files when run.
            g.positionals.push(v);
        }
    }
    Ok(g)
}

/// Global options, each at most once.
fn globals(u: &mut Unstructured) -> arbitrary::Result<Vec<Vec<String>>> {
    let mut out = Vec::new();
    for (names, value) in [
        (&["--json"][..], None),
        (&["-q", "--quiet"][..], None),
        (&["-v", "--verbose"][..], None),
        (&["--allow-http"][..], None),
        (&["--region"][..], Some(0u8)),
        (&["--profile"][..], Some(0)),
        (&["--endpoint-url"][..], Some(0)),
        (&["--account-id"][..], Some(0)),
        (&["--max-attempts"][..], Some(1)),
        (&["--connect-timeout"][..], Some(1)),
        (&["--timeout"][..], Some(1)),
    ] {
        if !u.arbitrary()? {
            continue;
        }
        match value {
            None => out.push(vec![u.choose(names)?.to_string()]),
            Some(0) => {
                let w = word(u)?;
                out.push(opt(u, names, &w)?);
            }
            Some(_) => {
                let n = u.int_in_range(1..=100_000u32)?;
                out.push(opt(u, names, &n.to_string())?);
            }
        }
    }
    Ok(out)
}

fn generated(u: &mut Unstructured) -> arbitrary::Result<()> {
    let g = command(u)?;
    let mut global = globals(u)?;
    shuffle(u, &mut global)?;
    let before = u.int_in_range(0..=global.len())?;
    let after = global.split_off(before);

    // A positional that would read as a flag needs '--' in front of the positionals.
    let flag_like = g
        .positionals
        .iter()
        .any(|p| p.starts_with('-') && !is_dash_value(p));
    let dash_dash = flag_like || u.arbitrary()?;

    let mut argv: Vec<String> = global.into_iter().flatten().collect();
    argv.extend(g.words.iter().cloned());
    let mut units: Vec<Vec<String>> = g.options.iter().cloned().chain(after).collect();
    shuffle(u, &mut units)?;
    if dash_dash {
        argv.extend(units.into_iter().flatten());
        argv.push("--".into());
        argv.extend(g.positionals.iter().cloned());
    } else {
        // Options anywhere between the positionals, which keep their order.
        let mut slots: Vec<Vec<Vec<String>>> = vec![Vec::new(); g.positionals.len() + 1];
        for unit in units {
            let i = u.int_in_range(0..=g.positionals.len())?;
            slots[i].push(unit);
        }
        for (i, slot) in slots.into_iter().enumerate() {
            argv.extend(slot.into_iter().flatten());
            if let Some(p) = g.positionals.get(i) {
                argv.push(p.clone());
            }
        }
    }

    let os: Vec<OsString> = argv.iter().map(OsString::from).collect();
    // The command types are private to the CLI; their Debug form is not.
    let dbg = parse_command(os).unwrap_or_else(|e| panic!("{argv:?} refused: {e}"));
    assert!(
        !(dbg.starts_with("Help(") || dbg == "Version"),
        "{argv:?} -> {dbg}"
    );
    for e in &g.expect {
        assert!(dbg.contains(e.as_str()), "{argv:?}: {e} not in {dbg}");
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    assert!(
        !Path::new("/nonexistent").exists(),
        "generated paths must not exist"
    );
    any_argv(data);
    let _ = generated(&mut Unstructured::new(data));
});
