//! Inventory readers: arbitrary bytes never panic either parser or any renderer, and
//! inventories generated from the input, in JSON and CSV with varied key order, column
//! order, quoting, escapes (in CSV both Glacier's `\"` and RFC 4180's `""`) and unknown
//! fields, parse back to exactly the archives they
//! were made from, also after passing through the crate's own renderers.
#![no_main]

use std::fmt::Write as _;

use glacier_upload::inventory::{self, Entries, Entry, Format, Header, MAX_FIELD_BYTES, Render};
use libfuzzer_sys::fuzz_target;

const RENDERS: [Render; 4] = [Render::Table, Render::Json, Render::Jsonl, Render::Csv];

fuzz_target!(|input: &[u8]| {
    // Any bytes: errors are fine, panics are not.
    for format in [Format::Json, Format::Csv] {
        for e in Entries::new(input, format) {
            if e.is_err() {
                break;
            }
        }
        for r in RENDERS {
            let _ = inventory::render(input, format, r, &mut std::io::sink());
        }
    }

    let [json_style, csv_style, rest @ ..] = input else {
        return;
    };
    let Some(entries) = entries_from(rest) else {
        return;
    };
    let arn = "arn:aws:glacier:eu-west-1:012345678901:vaults/v\u{e9}\"/";

    let json = to_json(&entries, arn, *json_style);
    let mut it = Entries::new(json.as_bytes(), Format::Json);
    let parsed: Vec<Entry> = it
        .by_ref()
        .map(|e| e.expect("generated JSON parses"))
        .collect();
    assert_eq!(parsed, entries, "JSON {json:?}");
    let header = Header {
        vault_arn: Some(arn.into()),
        inventory_date: Some("2024-01-02T03:04:05Z".into()),
    };
    assert_eq!(it.header(), &header);

    let csv = to_csv(&entries, *csv_style);
    let parsed: Vec<Entry> = Entries::new(csv.as_bytes(), Format::Csv)
        .map(|e| e.expect("generated CSV parses"))
        .collect();
    assert_eq!(parsed, entries, "CSV {csv:?}");

    // The crate's renderers: JSON is copied unchanged; CSV and JSON from CSV parse back.
    let count = entries.len() as u64;
    let total = entries.iter().fold(0u64, |t, e| t.saturating_add(e.size));
    let mut out = Vec::new();
    let summary =
        inventory::render(json.as_bytes(), Format::Json, Render::Json, &mut out).expect("renders");
    assert_eq!(out, json.as_bytes());
    assert_eq!((summary.archives, summary.total_bytes), (count, total));
    for (from, format, render, back) in [
        (&json, Format::Json, Render::Csv, Format::Csv),
        (&csv, Format::Csv, Render::Json, Format::Json),
    ] {
        let mut out = Vec::new();
        inventory::render(from.as_bytes(), format, render, &mut out).expect("renders");
        let parsed: Vec<Entry> = Entries::new(out.as_slice(), back)
            .map(|e| e.expect("rendered output parses"))
            .collect();
        assert_eq!(parsed, entries, "{format} rendered as {render:?}");
    }
    for r in [Render::Table, Render::Jsonl] {
        let summary = inventory::render(csv.as_bytes(), Format::Csv, r, &mut std::io::sink())
            .expect("renders");
        assert_eq!((summary.archives, summary.total_bytes), (count, total));
    }
});

/// Archives from the input: fields separated by 0xFF, five per archive (ID, description,
/// date, size as up to 8 little-endian bytes, tree hash), bytes made into text lossily so
/// quotes, commas, newlines, controls and non-BMP characters all occur.
fn entries_from(data: &[u8]) -> Option<Vec<Entry>> {
    let fields: Vec<&[u8]> = data.split(|&b| b == 0xFF).collect();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let entries: Vec<Entry> = fields
        .chunks_exact(5)
        .map(|f| {
            let mut size = [0u8; 8];
            let n = f[3].len().min(8);
            size[..n].copy_from_slice(&f[3][..n]);
            Entry {
                archive_id: text(f[0]),
                description: text(f[1]),
                creation_date: text(f[2]),
                size: u64::from_le_bytes(size),
                tree_hash: text(f[4]),
            }
        })
        // An entry without an archive ID or tree hash identifies no archive: the
        // readers skip it (counted; unit-tested in src/inventory/tests.rs).
        .filter(|e| !e.archive_id.is_empty() && !e.tree_hash.is_empty())
        // Glacier's CSV cannot say "a backslash ends this quoted field": `\"` is its
        // escaped quote. The reader follows Glacier's rule (unit-tested), so a field that
        // must be quoted and ends in a backslash cannot round-trip through CSV.
        .filter(|e| {
            [&e.archive_id, &e.description, &e.creation_date, &e.tree_hash]
                .iter()
                .all(|s| !(s.ends_with('\\') && s.contains([',', '"', '\r', '\n'])))
        })
        .collect();
    let fits = entries.iter().all(|e| {
        [
            &e.archive_id,
            &e.description,
            &e.creation_date,
            &e.tree_hash,
        ]
        .iter()
        .all(|s| s.len() <= MAX_FIELD_BYTES)
    });
    fits.then_some(entries)
}

/// A JSON string literal; with `escape_all`, every non-ASCII character and `/` escaped
/// (non-BMP ones as surrogate pairs).
fn json_str(out: &mut String, s: &str, escape_all: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '/' if escape_all => out.push_str("\\/"),
            c if (c as u32) < 0x20 || (escape_all && !c.is_ascii()) => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(out, "\\u{u:04X}").expect("String");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Glacier's JSON shape, varied by `style`: header before or after the list, unknown
/// keys with nested values, whitespace, escapes, null descriptions, rotated key order.
fn to_json(entries: &[Entry], arn: &str, style: u8) -> String {
    let header_first = style & 1 != 0;
    let unknown = style & 2 != 0;
    let ws = if style & 4 != 0 { "\n  " } else { "" };
    let escape_all = style & 8 != 0;
    let null_empty = style & 16 != 0;
    let rotate = (style >> 5) as usize;

    let mut out = String::from("{");
    out.push_str(ws);
    let header = |out: &mut String| {
        out.push_str("\"VaultARN\":");
        json_str(out, arn, escape_all);
        write!(out, ",{ws}\"InventoryDate\":\"2024-01-02T03:04:05Z\",{ws}").expect("String");
    };
    if header_first {
        header(&mut out);
    }
    if unknown {
        write!(
            out,
            r#""Unknown":{{"a":[1,-2.5e3,true,false,null,"]}}"],"b":{{}}}},{ws}"#
        )
        .expect("String");
    }
    out.push_str("\"ArchiveList\":[");
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(ws);
        out.push('{');
        let mut members: Vec<String> = Vec::new();
        let m = |key: &str, s: &str| {
            let mut v = format!("\"{key}\" : ");
            json_str(&mut v, s, escape_all);
            v
        };
        members.push(m("ArchiveId", &e.archive_id));
        if null_empty && e.description.is_empty() {
            members.push("\"ArchiveDescription\":null".into());
        } else {
            members.push(m("ArchiveDescription", &e.description));
        }
        members.push(m("CreationDate", &e.creation_date));
        members.push(format!("\"Size\":{}", e.size));
        members.push(m("SHA256TreeHash", &e.tree_hash));
        if unknown {
            members.push(r#""Extra":[{"Size":-1,"ArchiveId":["x"]}]"#.into());
        }
        let n = members.len();
        members.rotate_left((rotate + i) % n);
        out.push_str(&members.join(","));
        out.push('}');
    }
    out.push_str(ws);
    out.push_str("],");
    out.push_str(ws);
    if !header_first {
        header(&mut out);
    }
    out.push_str("\"Other\":\"\\u00e9\"}");
    out.push_str(ws);
    out
}

/// CSV with a header row, varied by `style`: LF or CRLF, quote everything or only what
/// needs it, an extra unknown column, quotes escaped as Glacier does (`\"`, backslashes
/// not escaped: "Get Job Output", CSV format) or doubled (RFC 4180; a quote right after
/// a backslash then as `\"`, as the crate's renderer writes it), rotated column order.
fn to_csv(entries: &[Entry], style: u8) -> String {
    let eol = if style & 1 != 0 { "\r\n" } else { "\n" };
    let quote_all = style & 2 != 0;
    let extra = style & 4 != 0;
    let glacier_escapes = style & 8 != 0;
    let rotate = (style >> 4) as usize;

    let field = |s: &str| {
        let needs = s.contains([',', '"', '\r', '\n']);
        // A quoted field ending in a backslash reads as an escaped quote (see
        // `entries_from`), so such a field is quoted only when it must be.
        if needs || (quote_all && !s.ends_with('\\')) {
            let mut q = String::from("\"");
            let mut after_backslash = false;
            for c in s.chars() {
                match c {
                    '"' if glacier_escapes || after_backslash => q.push_str("\\\""),
                    '"' => q.push_str("\"\""),
                    c => q.push(c),
                }
                after_backslash = c == '\\';
            }
            q.push('"');
            q
        } else {
            s.to_string()
        }
    };
    let row = |mut cols: Vec<String>| {
        if extra {
            cols.push(field("extra, \"column\"\n"));
        }
        let n = cols.len();
        cols.rotate_left(rotate % n);
        cols.join(",")
    };
    let mut out = row([
        "ArchiveId",
        "ArchiveDescription",
        "CreationDate",
        "Size",
        "SHA256TreeHash",
    ]
    .map(field)
    .to_vec());
    out.push_str(eol);
    for e in entries {
        out.push_str(&row(vec![
            field(&e.archive_id),
            field(&e.description),
            field(&e.creation_date),
            field(&e.size.to_string()),
            field(&e.tree_hash),
        ]));
        out.push_str(eol);
    }
    out
}
