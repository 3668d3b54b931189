//! The AWS shared config/credentials parser (`IniFile::parse`).
//!
//! Invariants: arbitrary text never panics, and an error is a `ConfigFile` error naming
//! the given path and a line that exists. INI files generated from the input, following
//! the documented rules (`[section]` headers with optional trailing comments, `key =
//! value` with whitespace trimmed and later `=` kept in the value, `#`/`;` comment lines,
//! blank lines, indented continuation lines appended to the setting above, a repeated
//! key replacing the earlier value in place, a repeated section merging into the first,
//! LF or CRLF line ends), parse back to exactly the sections, keys and values the model
//! predicts. One malformed line inserted anywhere is reported with its own line number,
//! and the error never quotes it (it may hold a secret).
#![no_main]

use std::path::Path;

use glacier_upload::Error;
use glacier_upload::config::IniFile;
use glacier_upload_fuzz::{Unstructured, arbitrary, nonempty_from, string_from};
use libfuzzer_sys::fuzz_target;

const PATH: &str = "/fuzz/.aws/config";

/// Characters for names and values: separators, comment starts, brackets, whitespace
/// (including Unicode whitespace `trim` removes and a lone CR), multi-byte.
const ANY: &[char] = &[
    'a',
    'B',
    '0',
    '_',
    '-',
    '.',
    '=',
    '#',
    ';',
    '[',
    ']',
    ' ',
    '\t',
    '\r',
    '\u{a0}',
    '\u{3000}',
    '\u{e9}',
    '\u{1f600}',
    '"',
    '\'',
    '/',
];
/// Whitespace `str::trim` removes that does not make a line indented.
const OTHER_SPACE: &[char] = &['\u{a0}', '\u{3000}', '\u{b}', '\u{c}', '\r'];

#[derive(Default)]
struct Model {
    sections: Vec<(String, Vec<(String, String)>)>,
    current: Option<usize>,
    last_key: Option<String>,
}

impl Model {
    fn set(&mut self, key: &str, value: String) {
        let idx = self.current.expect("settings only inside a section");
        let entries = &mut self.sections[idx].1;
        match entries.iter_mut().find(|(k, _)| k == key) {
            Some(e) => e.1 = value,
            None => entries.push((key.to_string(), value)),
        }
        self.last_key = Some(key.to_string());
    }
}

/// `s` with whitespace neither at its start nor its end (`None` if nothing is left), so
/// that padding added around it is what the parser trims.
fn core(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Padding for the start of a line: indentation only where the parser does not take it
/// for a continuation.
fn lead(u: &mut Unstructured, m: &Model) -> arbitrary::Result<String> {
    if m.last_key.is_none() && u.arbitrary()? {
        string_from(u, &[' ', '\t', '\u{a0}'], 3)
    } else {
        string_from(u, OTHER_SPACE, 1)
    }
}

fn pad(u: &mut Unstructured) -> arbitrary::Result<String> {
    string_from(u, &[' ', '\t', '\u{a0}', '\u{3000}'], 2)
}

/// Generates a file and what it must parse to.
fn generate(u: &mut Unstructured) -> arbitrary::Result<(Vec<String>, Model)> {
    let mut m = Model::default();
    let mut lines = Vec::new();
    let n = u.int_in_range(0..=40)?;
    for _ in 0..n {
        let line = match u.int_in_range(0..=6u8)? {
            // [section], maybe a repeat of an earlier one.
            0 | 1 => {
                let name = if !m.sections.is_empty() && u.arbitrary()? {
                    u.choose(&m.sections)?.0.clone()
                } else {
                    let raw = string_from(u, ANY, 10)?.replace(']', "");
                    let Some(name) = core(raw) else { continue };
                    name
                };
                let comment = match u.int_in_range(0..=2u8)? {
                    0 => String::new(),
                    1 => format!("{} # {}", pad(u)?, string_from(u, ANY, 8)?),
                    _ => format!(";{}", string_from(u, ANY, 8)?),
                };
                let line = format!(
                    "{}[{}{name}{}]{}{comment}",
                    lead(u, &m)?,
                    pad(u)?,
                    pad(u)?,
                    pad(u)?
                );
                m.current = Some(match m.sections.iter().position(|(n, _)| *n == name) {
                    Some(i) => i,
                    None => {
                        m.sections.push((name, Vec::new()));
                        m.sections.len() - 1
                    }
                });
                m.last_key = None;
                line
            }
            // key = value, maybe a repeated key.
            2 | 3 if m.current.is_some() => {
                let idx = m.current.expect("checked");
                let key = if !m.sections[idx].1.is_empty() && u.arbitrary()? {
                    u.choose(&m.sections[idx].1)?.0.clone()
                } else {
                    let raw = string_from(u, ANY, 10)?.replace('=', "");
                    let Some(key) = core(raw) else { continue };
                    if key.starts_with(['[', '#', ';']) {
                        continue;
                    }
                    key
                };
                let value = string_from(u, ANY, 16)?;
                let line = format!("{}{key}{}={value}", lead(u, &m)?, pad(u)?);
                m.set(&key, value.trim().to_string());
                line
            }
            // An indented continuation of the setting above.
            4 if m.last_key.is_some() => {
                let Some(text) = core(string_from(u, ANY, 12)?) else {
                    continue;
                };
                if text.starts_with(['#', ';']) {
                    continue;
                }
                let indent = nonempty_from(u, &[' ', '\t'], 3)?;
                let key = m.last_key.clone().expect("checked");
                let idx = m.current.expect("a key is in a section");
                let old = m.sections[idx]
                    .1
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                m.set(&key, format!("{old}\n{text}"));
                format!("{indent}{text}{}", pad(u)?)
            }
            // A comment line, indented or not.
            5 => format!(
                "{}{}{}",
                string_from(u, &[' ', '\t'], 2)?,
                u.choose(&['#', ';'])?,
                string_from(u, ANY, 12)?
            ),
            // A blank line.
            _ => string_from(u, &[' ', '\t', '\u{a0}', '\r'], 3)?,
        };
        lines.push(line);
    }
    Ok((lines, m))
}

fn join(u: &mut Unstructured, lines: &[String]) -> arbitrary::Result<String> {
    let mut text = String::new();
    for (i, l) in lines.iter().enumerate() {
        text.push_str(l);
        let last = i + 1 == lines.len();
        if !last || u.arbitrary()? {
            text.push_str(if u.arbitrary()? { "\r\n" } else { "\n" });
        }
    }
    Ok(text)
}

fn check_parsed(f: &IniFile, m: &Model, text: &str) {
    let names: Vec<&str> = f.section_names().collect();
    let want: Vec<&str> = m.sections.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, want, "{text:?}");
    for (name, entries) in &m.sections {
        let s = f.section(name).expect("listed section exists");
        let keys: Vec<&str> = s.keys().collect();
        let want: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, want, "[{name}] in {text:?}");
        for (k, v) in entries {
            let want = (!v.is_empty()).then_some(v.as_str());
            assert_eq!(s.get(k), want, "[{name}] {k} in {text:?}");
        }
    }
}

/// Checks an error is a `ConfigFile` error for our path at a real line; returns the line.
fn error_line(e: &Error, text: &str) -> usize {
    match e {
        Error::ConfigFile { path, line, .. } => {
            assert_eq!(path, Path::new(PATH));
            assert!(
                (1..=text.lines().count()).contains(line),
                "line {line} of {} in {text:?}",
                text.lines().count()
            );
            *line
        }
        other => panic!("not a ConfigFile error: {other:?}"),
    }
}

fn check(data: &[u8]) -> arbitrary::Result<()> {
    if let Ok(text) = std::str::from_utf8(data)
        && let Err(e) = IniFile::parse(text, Path::new(PATH))
    {
        error_line(&e, text);
    }

    let mut u = Unstructured::new(data);
    let (mut lines, model) = generate(&mut u)?;
    let text = join(&mut u, &lines)?;
    let f = IniFile::parse(&text, Path::new(PATH))
        .unwrap_or_else(|e| panic!("generated file refused: {e} in {text:?}"));
    check_parsed(&f, &model, &text);

    // One malformed line, unindented so it cannot be a continuation.
    let secret = "SECRETxK9";
    let bad = match u.int_in_range(0..=4u8)? {
        0 => format!("aws_secret_access_key {secret}"),
        1 => format!("[{secret}"),
        2 => format!("[a] {secret}"),
        3 => format!("[ {} ]", string_from(&mut u, &[' ', '\t'], 2)?),
        _ => format!("= {secret}"),
    };
    let at = u.int_in_range(0..=lines.len())?;
    lines.insert(at, bad);
    let text = join(&mut u, &lines)?;
    match IniFile::parse(&text, Path::new(PATH)) {
        Ok(_) => panic!("malformed line {} accepted: {text:?}", at + 1),
        Err(e) => {
            assert_eq!(error_line(&e, &text), at + 1, "{text:?}");
            assert!(!e.to_string().contains(secret), "{e}");
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = check(data);
});
