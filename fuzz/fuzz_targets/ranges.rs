//! Byte-range parsers: ListParts' `RangeInBytes` (`parse_byte_range`) and the CLI's
//! `--range START-END` (reached through `testing::parse_command`, as its parser is private).
//!
//! Invariants: arbitrary text never panics either; `parse(format(a, b))` gives `(a, b)`
//! back exactly when the range is valid (`a <= b`, and for a retrieval START a MiB
//! multiple), and fails otherwise; whatever the CLI accepts, the range it puts into the
//! InitiateJob request is the canonical `a-b` of the numbers it checked (Glacier gets
//! what was validated, not the raw text); and tree-hash alignment of a parsed range agrees
//! with the brute-force definition.
#![no_main]

use std::ffi::OsString;

use glacier_upload::Error;
use glacier_upload::glacier::parse_byte_range;
use glacier_upload::treehash::is_tree_hash_aligned;
use glacier_upload_fuzz::{Unstructured, arbitrary, reference_aligned, string_from};
use libfuzzer_sys::fuzz_target;

const MIB: u64 = 1 << 20;
const ARCHIVE_ID: &str = "-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIjKl";

/// The range the CLI accepted for `--range s`, as the request it built will send it;
/// `None` when `s` was taken as another flag (`--range -V`: flags are found anywhere).
fn cli_range(s: &str, eq_form: bool) -> Result<Option<String>, Error> {
    let mut argv: Vec<OsString> = vec!["archive".into(), "init-retrieval".into()];
    if eq_form {
        argv.push(format!("--range={s}").into());
    } else {
        argv.push("--range".into());
        argv.push(s.into());
    }
    argv.push("v".into());
    argv.push(ARCHIVE_ID.into());
    // The command types are private to the CLI; their Debug form is not.
    let dbg = glacier_upload::testing::parse_command(argv)?;
    if !dbg.contains("InitRetrieval") {
        assert!(!eq_form && s.starts_with('-'), "--range {s:?} gave {dbg}");
        return Ok(None);
    }
    let key = "retrieval_byte_range: Some(\"";
    let at = dbg.find(key).unwrap_or_else(|| panic!("no range in {dbg}"));
    let rest = &dbg[at + key.len()..];
    Ok(Some(
        rest[..rest.find('"').expect("closing quote")].to_string(),
    ))
}

/// Text that is a number to a lenient reader but not canonical: sign, zeros, spaces.
fn decorate(u: &mut Unstructured, n: u64) -> arbitrary::Result<String> {
    let mut s = n.to_string();
    if u.arbitrary()? {
        s.insert(0, '0');
    }
    if u.arbitrary()? {
        s.insert(0, '+');
    }
    let pad = string_from(u, &[' ', '\t'], 2)?;
    Ok(if u.arbitrary()? {
        format!("{pad}{s}")
    } else {
        format!("{s}{pad}")
    })
}

fn check(data: &[u8]) -> arbitrary::Result<()> {
    // Arbitrary text: no panic; an accepted range is well formed.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some((a, b)) = parse_byte_range(text) {
            assert!(a <= b);
            assert_eq!(parse_byte_range(&format!("{a}-{b}")), Some((a, b)));
        }
        if !text.contains('\0') {
            check_cli(text, None)?;
        }
    }

    let mut u = Unstructured::new(data);
    let mib = |u: &mut Unstructured| -> arbitrary::Result<u64> {
        let v: u64 = u.arbitrary()?;
        Ok(match v & 3 {
            0 => ((v >> 2) % (1 << 24)) * MIB,
            1 => (((v >> 2) % (1 << 24)) * MIB).saturating_sub(1),
            2 => (v >> 2) % (1 << 24),
            _ => v,
        })
    };
    let (a, b, size) = (mib(&mut u)?, mib(&mut u)?, mib(&mut u)?);

    // RangeInBytes: exactly the ordered pairs round-trip.
    let text = format!("{a}-{b}");
    assert_eq!(
        parse_byte_range(&text),
        (a <= b).then_some((a, b)),
        "{text}"
    );

    // --range: the canonical form is accepted exactly when valid, and sent as is.
    let valid = a <= b && a.is_multiple_of(MIB);
    check_cli(&text, Some(valid.then_some((a, b))))?;
    // A decorated form is accepted or refused like the canonical one; either way what
    // would be sent is canonical.
    let decorated = format!("{}-{}", decorate(&mut u, a)?, decorate(&mut u, b)?);
    check_cli(&decorated, None)?;

    if valid {
        assert_eq!(
            is_tree_hash_aligned(a, b, size),
            reference_aligned(a, b, size),
            "{a}-{b} of {size}"
        );
    }
    Ok(())
}

/// `expect`: `Some(Some(range))` must be accepted as that range, `Some(None)` refused,
/// `None` either, as long as an accepted range is canonical and checked.
fn check_cli(s: &str, expect: Option<Option<(u64, u64)>>) -> arbitrary::Result<()> {
    for eq_form in [true, false] {
        match cli_range(s, eq_form) {
            Ok(None) => {}
            Ok(Some(sent)) => {
                let (a, b) = sent
                    .split_once('-')
                    .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)))
                    .unwrap_or_else(|| panic!("--range {s:?} sent as {sent:?}"));
                assert_eq!(sent, format!("{a}-{b}"), "--range {s:?} sent non-canonical");
                assert!(
                    a <= b && a.is_multiple_of(MIB),
                    "--range {s:?} sent {sent:?}"
                );
                if let Some(e) = expect {
                    assert_eq!(Some((a, b)), e, "--range {s:?}");
                }
            }
            Err(e) => {
                assert!(matches!(e, Error::Usage(_)), "--range {s:?}: {e:?}");
                if let Some(e) = expect {
                    assert_eq!(e, None, "--range {s:?} refused");
                }
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = check(data);
});
