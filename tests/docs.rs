//! The README and `docs/` against the code: every `glacier` command in a shell block
//! parses with the real parser (nothing is run or sent), and every relative link and
//! every repository path they name exists.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// README.md, docs/*.md and tests/mock/README.md: the documents a user reads.
fn documents() -> Vec<PathBuf> {
    let root = Path::new(ROOT);
    let mut out = vec![root.join("README.md"), root.join("tests/mock/README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|e| e.expect("docs entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    assert!(docs.len() >= 6, "docs/ holds the moved README sections");
    out.extend(docs);
    out
}

/// The lines of the ```sh blocks, with `\` continuations joined.
fn shell_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in text.lines() {
        let fence = line.trim_start();
        if fence.starts_with("```") {
            in_sh = !in_sh && matches!(fence.trim_start_matches('`'), "sh" | "bash" | "shell");
            continue;
        }
        if !in_sh {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(line);
        out.push(std::mem::take(&mut pending));
    }
    out
}

/// Splits one shell line into words the way a POSIX shell would for these documents:
/// quotes removed, a `#` comment dropped, `|`, `;`, `&&`, `||`, `>`, `$(` and `)` as
/// separate words. Parameter and arithmetic expansions (`$k`, `"$((I+1))/$N"`) become
/// `1`, a value every place they stand in accepts.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let (mut single, mut double) = (false, false);
    while i < chars.len() {
        let c = chars[i];
        if single {
            if c == '\'' {
                single = false;
            } else {
                cur.push(c);
            }
            i += 1;
            continue;
        }
        match c {
            '\'' if !double => (single, has) = (true, true),
            '"' => (double, has) = (!double, true),
            '$' if chars.get(i + 1) == Some(&'(') && chars.get(i + 2) == Some(&'(') => {
                let mut depth = 0;
                while i < chars.len() {
                    match chars[i] {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 && chars[i] == ')' {
                        break;
                    }
                    i += 1;
                }
                cur.push('1');
                has = true;
            }
            '$' if chars.get(i + 1) == Some(&'(') && !double => {
                push(&mut out, &mut cur, &mut has);
                out.push("$(".into());
                i += 1;
            }
            '$' if chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_' || *n == '{') =>
            {
                i += 1;
                let braced = chars[i] == '{';
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '{')
                {
                    i += 1;
                }
                if braced && chars.get(i) == Some(&'}') {
                    i += 1;
                }
                cur.push('1');
                has = true;
                continue;
            }
            _ if double => cur.push(c),
            '#' if !has => break,
            ' ' | '\t' => push(&mut out, &mut cur, &mut has),
            '|' | ';' | '&' | '>' | '<' | ')' => {
                push(&mut out, &mut cur, &mut has);
                out.push(c.to_string());
            }
            _ => {
                cur.push(c);
                has = true;
            }
        }
        i += 1;
    }
    assert!(!single && !double, "unbalanced quotes in: {line}");
    push(&mut out, &mut cur, &mut has);
    out
}

fn push(out: &mut Vec<String>, cur: &mut String, has: &mut bool) {
    if *has {
        out.push(std::mem::take(cur));
    }
    *has = false;
}

/// The `glacier` invocations in a line: from each `glacier` word that starts a command
/// (at the start, or after `|`, `;`, `&`, `$(`, or an assignment `x=`) to the next
/// separator, without the program name.
fn glacier_commands(line: &str) -> Vec<Vec<String>> {
    let ws = words(line);
    let separator = |w: &str| matches!(w, "|" | ";" | "&" | ">" | "<" | ")" | "$(");
    let mut out = Vec::new();
    let mut start = true;
    let mut i = 0;
    while i < ws.len() {
        let w = ws[i].as_str();
        let program = w.strip_suffix("$(").unwrap_or(w);
        if start
            && (w == "glacier"
                || (program.ends_with('=') && ws.get(i + 1).is_some_and(|n| n == "$(")))
        {
            if w == "glacier" {
                let args: Vec<String> = ws[i + 1..]
                    .iter()
                    .take_while(|w| !separator(w))
                    .cloned()
                    .collect();
                i += args.len();
                out.push(args);
            }
        }
        start = separator(w) || w.ends_with('=');
        i += 1;
    }
    out
}

#[test]
fn the_word_splitter_reads_the_documents_shell() {
    assert_eq!(
        glacier_commands(
            r#"job=$(glacier archive init-retrieval --tier Bulk photos "$ARCHIVE_ID")"#
        ),
        vec![vec![
            "archive",
            "init-retrieval",
            "--tier",
            "Bulk",
            "photos",
            "1"
        ]]
    );
    assert_eq!(
        glacier_commands("cut -d, -f1 old.csv | glacier archive delete -t 8 photos -   # ids"),
        vec![vec!["archive", "delete", "-t", "8", "photos", "-"]]
    );
    assert_eq!(
        glacier_commands(r#"glacier vault export --shard "$((J+1))/$N" photos /data"#),
        vec![vec!["vault", "export", "--shard", "1/1", "photos", "/data"]]
    );
    assert_eq!(
        glacier_commands("glacier --generate man > ~/glacier.1"),
        vec![vec!["--generate", "man"]]
    );
    assert!(glacier_commands("tar c dir | gzip").is_empty());
    assert_eq!(words("a 'b c' \"d e\""), ["a", "b c", "d e"]);
}

#[test]
fn every_glacier_command_in_the_docs_parses() {
    let mut seen = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("document");
        for line in shell_lines(&text) {
            for args in glacier_commands(&line) {
                seen += 1;
                let argv = args.iter().map(Into::into).collect();
                if let Err(e) = glacier_upload::testing::parse_command(argv) {
                    panic!(
                        "{}: `glacier {}` does not parse: {e}",
                        doc.display(),
                        args.join(" ")
                    );
                }
            }
        }
    }
    assert!(seen > 30, "found the documents' commands ({seen})");
}

/// The targets of `[text](target)` links: (file, anchor), the file empty for `#anchor`.
fn links(text: &str) -> Vec<(String, Option<String>)> {
    text.split("](")
        .skip(1)
        .filter_map(|s| s.split(')').next())
        .filter(|t| !t.starts_with("http://") && !t.starts_with("https://"))
        .map(|t| match t.split_once('#') {
            Some((file, anchor)) => (file.to_string(), Some(anchor.to_string())),
            None => (t.to_string(), None),
        })
        .collect()
}

/// The anchors GitHub makes for a document's headings: lowercase, punctuation dropped
/// (but `-` and `_`), spaces as `-`.
fn anchors(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        out.push(
            title
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
                .map(|c| if c == ' ' { '-' } else { c })
                .collect(),
        );
    }
    out
}

/// Repository paths named in backticks: `src/...`, `tests/...`, `docs/...` and so on.
fn named_paths(text: &str) -> Vec<String> {
    const TOP: [&str; 7] = [
        "src/",
        "tests/",
        "docs/",
        "benches/",
        "fuzz/",
        ".ci/",
        "examples/",
    ];
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| TOP.iter().any(|t| s.starts_with(t)))
        .filter(|s| !s.contains(' ') && !s.contains('*'))
        .map(String::from)
        .collect()
}

#[test]
fn every_link_and_named_file_exists() {
    let root = Path::new(ROOT);
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("document");
        let dir = doc.parent().expect("a document has a directory");
        for (file, anchor) in links(&text) {
            checked += 1;
            let target = if file.is_empty() {
                doc.clone()
            } else {
                dir.join(&file)
            };
            assert!(
                target.exists(),
                "{} links to {file}, which does not exist",
                doc.display()
            );
            if let Some(anchor) = anchor {
                let linked = std::fs::read_to_string(&target).expect("linked document");
                assert!(
                    anchors(&linked).contains(&anchor),
                    "{} links to {file}#{anchor}, which has no such heading",
                    doc.display()
                );
            }
        }
        for path in named_paths(&text) {
            checked += 1;
            assert!(
                root.join(&path).exists(),
                "{} names {path}, which does not exist",
                doc.display()
            );
        }
        assert!(
            !text.contains("../shared"),
            "{} points outside the repository",
            doc.display()
        );
    }
    assert!(
        checked > 20,
        "found the documents' links and paths ({checked})"
    );
}

#[test]
fn nothing_in_the_repository_points_outside_it() {
    for file in ["src/lib.rs", "src/inventory.rs", "Cargo.toml", ".ci/run"] {
        let text = std::fs::read_to_string(Path::new(ROOT).join(file)).expect("file");
        assert!(!text.contains("../shared"), "{file} points at ../shared");
    }
}

#[test]
fn the_readme_fits_a_screen_or_two() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README");
    let lines = readme.lines().count();
    assert!(
        lines <= 160,
        "README.md has {lines} lines; move detail to docs/"
    );
    assert!(readme.contains("cargo install --locked --path ."));
}

#[test]
fn ci_runs_the_readmes_test_command() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README");
    let line = readme
        .lines()
        .find(|l| l.contains("# run the whole test suite"))
        .expect("the README's quickstart names the test command");
    let command = line.split('#').next().expect("command").trim();
    let ci = std::fs::read_to_string(Path::new(ROOT).join(".ci/run")).expect(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim() == command),
        ".ci/run does not run the README's test command `{command}`"
    );
}
