//! Inputs the fuzz targets (`fuzz/`) found, kept as regression tests: each one failed an
//! invariant of its target before the fix named in its comment.

use std::ffi::OsString;

use glacier_upload::testing::parse_command;

/// The Debug form of the command `argv` parses to (the command types are private to the
/// CLI; their Debug form shows the values they carry).
fn parsed(argv: &[&str]) -> String {
    let argv: Vec<OsString> = argv.iter().map(OsString::from).collect();
    match parse_command(argv.clone()) {
        Ok(cmd) => cmd,
        Err(e) => panic!("{argv:?} refused: {e}"),
    }
}

const ARCHIVE_ID: &str = "-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIjKl";

/// fuzz target `ranges`: `--range 00-0` passed the check but was sent to Glacier as
/// typed; the request now carries the canonical `a-b` of the checked numbers.
#[test]
fn retrieval_range_is_sent_canonical() {
    for (given, sent) in [
        ("00-0", "0-0"),
        (" 1048576 - 2097151", "1048576-2097151"),
        ("+0-+01048575", "0-1048575"),
        ("0-1048575", "0-1048575"),
    ] {
        for argv in [
            vec![
                "archive",
                "init-retrieval",
                "--range",
                given,
                "v",
                ARCHIVE_ID,
            ],
            vec![
                "archive",
                "init-retrieval",
                "v",
                ARCHIVE_ID,
                "--range",
                given,
            ],
        ] {
            let dbg = parsed(&argv);
            let want = format!("retrieval_byte_range: Some(\"{sent}\")");
            assert!(dbg.contains(&want), "{given:?}: {dbg}");
        }
    }
}

/// fuzz target `cli_args`: pico-args stripped quotes around a `--flag=value` value and
/// refused an unclosed one ("--description needs a value"); the value is now verbatim.
#[test]
fn flag_equals_value_keeps_its_quotes() {
    for value in ["' ", "\"quoted\"", "'single'", "\"", "'a\"b"] {
        let flag = format!("--description={value}");
        let dbg = parsed(&["upload", &flag, "v", "/nonexistent/f"]);
        assert!(dbg.contains(&format!("{value:?}")), "{value:?}: {dbg}");
    }
    let dbg = parsed(&["upload", "-d='x'", "v", "-"]);
    assert!(dbg.contains("\"'x'\""), "{dbg}");
    // Values without quotes and other flags are unchanged.
    let dbg = parsed(&["upload", "--description=a=b", "--threads=3", "v", "-"]);
    assert!(
        dbg.contains("\"a=b\"") && dbg.contains("threads: 3"),
        "{dbg}"
    );
    // A quoted value of a flag that takes none is still refused.
    assert!(parse_command(vec!["--json='x'".into(), "version".into()]).is_err());
}
