//! Unit tests of the inventory readers and renderers.

use super::*;
use std::fmt::Write as _;

/// Hands out at most a few bytes per read, varying, so every token straddles reads.
struct Trickle<'a> {
    data: &'a [u8],
    pos: usize,
    reads: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        let n = (1 + self.reads % 7)
            .min(buf.len())
            .min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn trickle(data: &[u8]) -> Trickle<'_> {
    Trickle {
        data,
        pos: 0,
        reads: 0,
    }
}

fn parse(format: Format, data: &str) -> (Vec<Entry>, Header) {
    let mut it = Entries::new(trickle(data.as_bytes()), format);
    let v = it
        .by_ref()
        .collect::<Result<Vec<_>>>()
        .unwrap_or_else(|e| panic!("{}", crate::error::chain(&e)));
    (v, it.header().clone())
}

fn malformed(format: Format, data: &[u8]) -> Malformed {
    let err = Entries::new(trickle(data), format)
        .find_map(|e| e.err())
        .expect("an error");
    match err {
        Error::Transport { what, source } => {
            assert_eq!(what, "inventory");
            source
                .downcast_ref::<Malformed>()
                .expect("a Malformed")
                .clone()
        }
        e => panic!("unexpected {e:?}"),
    }
}

fn rendered(data: &str, format: Format, r: Render) -> String {
    let mut out = Vec::new();
    render(trickle(data.as_bytes()), format, r, &mut out).expect("renders");
    String::from_utf8(out).expect("UTF-8")
}

fn entry(id: &str, desc: &str, date: &str, size: u64, hash: &str) -> Entry {
    Entry {
        archive_id: id.into(),
        description: desc.into(),
        creation_date: date.into(),
        size,
        tree_hash: hash.into(),
    }
}

const FIXTURE_JSON: &str = concat!(
    r#"{"VaultARN":"arn:aws:glacier:us-east-1:012345678901:vaults/photos","#,
    r#""InventoryDate":"2024-01-02T03:04:05Z","ArchiveList":["#,
    r#"{"ArchiveId":"AAAAAAAAAAAA","ArchiveDescription":"holiday, 2023","#,
    r#""CreationDate":"2023-12-24T10:00:00Z","Size":1610612736,"SHA256TreeHash":"aa11"},"#,
    r#"{"ArchiveId":"BBBBBBBBBBBB","ArchiveDescription":"say \"hi\"\nthere","#,
    r#""CreationDate":"2023-12-25T10:00:00Z","Size":512,"SHA256TreeHash":"bb22"}]}"#,
    "\n"
);

const FIXTURE_CSV: &str = concat!(
    "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n",
    "AAAAAAAAAAAA,\"holiday, 2023\",2023-12-24T10:00:00Z,1610612736,aa11\n",
    "BBBBBBBBBBBB,\"say \"\"hi\"\"\nthere\",2023-12-25T10:00:00Z,512,bb22\n",
);

fn fixture_entries() -> Vec<Entry> {
    vec![
        entry(
            "AAAAAAAAAAAA",
            "holiday, 2023",
            "2023-12-24T10:00:00Z",
            1610612736,
            "aa11",
        ),
        entry(
            "BBBBBBBBBBBB",
            "say \"hi\"\nthere",
            "2023-12-25T10:00:00Z",
            512,
            "bb22",
        ),
    ]
}

#[test]
fn json_header_before_the_list() {
    let (entries, header) = parse(Format::Json, FIXTURE_JSON);
    assert_eq!(entries, fixture_entries());
    assert_eq!(
        header.vault_arn.as_deref(),
        Some("arn:aws:glacier:us-east-1:012345678901:vaults/photos")
    );
    assert_eq!(
        header.inventory_date.as_deref(),
        Some("2024-01-02T03:04:05Z")
    );
}

#[test]
fn json_header_after_the_list_and_keys_in_any_order() {
    let doc = r#" { "ArchiveList" : [ { "SHA256TreeHash" : "h" , "Size" : 0 ,
        "CreationDate" : "d" , "ArchiveDescription" : "" , "ArchiveId" : "i" } ] ,
        "InventoryDate" : "2024" , "VaultARN" : "arn" } "#;
    let mut it = Entries::new(doc.as_bytes(), Format::Json);
    assert_eq!(
        it.next().expect("one").expect("ok"),
        entry("i", "", "d", 0, "h")
    );
    assert_eq!(it.header(), &Header::default(), "not read yet");
    assert!(it.next().is_none());
    assert!(it.next().is_none(), "fused");
    assert_eq!(it.header().vault_arn.as_deref(), Some("arn"));
    assert_eq!(it.header().inventory_date.as_deref(), Some("2024"));
    assert_eq!(it.offset(), doc.len() as u64);
}

#[test]
fn json_unknown_keys_are_skipped() {
    let doc = r#"{"Extra":{"a":[1,-2.5e+3,true,false,null,{"b":"}]\""}],"c":{}},
        "Numbers":[0,1E2,-0.0],"ArchiveList":[{"Tags":["x",{"y":[[]]}],"ArchiveId":"i",
        "CreationDate":"d","Size":7,"Nested":{"Size":99},"SHA256TreeHash":"h",
        "ArchiveDescription":null}],"More":"\u0041\\"}"#;
    let (entries, header) = parse(Format::Json, doc);
    assert_eq!(entries, vec![entry("i", "", "d", 7, "h")]);
    assert_eq!(header, Header::default());
}

#[test]
fn json_escapes() {
    let doc = r#"{"ArchiveList":[{"ArchiveId":"a\"b\\c\/d","ArchiveDescription":
        "line\nnext\ttab\r\b\f caf\u00e9 \u00E9 smile \ud83d\ude00 raw é 😀",
        "CreationDate":"d","Size":1,"SHA256TreeHash":"h"}]}"#;
    let (entries, _) = parse(Format::Json, doc);
    assert_eq!(entries[0].archive_id, "a\"b\\c/d");
    assert_eq!(
        entries[0].description,
        "line\nnext\ttab\r\u{8}\u{c} café é smile 😀 raw é 😀"
    );
}

#[test]
fn json_empty_list() {
    let doc = "\u{feff}{\"VaultARN\":\"v\",\"ArchiveList\":[ ]}";
    let (entries, header) = parse(Format::Json, doc);
    assert!(entries.is_empty());
    assert_eq!(header.vault_arn.as_deref(), Some("v"));
    assert_eq!(
        rendered(doc, Format::Json, Render::Table),
        "0 archives, 0 B total\n"
    );
    assert_eq!(rendered(doc, Format::Json, Render::Jsonl), "");
    assert_eq!(
        rendered(doc, Format::Json, Render::Csv),
        "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n"
    );
}

/// 200,000 archives through a reader giving at most 7 bytes per read: the streaming
/// path with every token split across reads, at a size where quadratic behaviour or
/// a leak of memory per entry would show.
#[test]
fn large_inventories_stream() {
    const N: u64 = 200_000;
    let mut json = String::from(r#"{"ArchiveList":["#);
    let mut csv = String::from("Size,SHA256TreeHash,ArchiveId,CreationDate\n");
    for i in 0..N {
        if i > 0 {
            json.push(',');
        }
        write!(
            json,
            r#"{{"ArchiveId":"id{i}","CreationDate":"d","Size":{i},"SHA256TreeHash":"h"}}"#
        )
        .expect("String");
        writeln!(csv, "{i},h,id{i},d").expect("String");
    }
    json.push_str(r#"],"VaultARN":"end"}"#);
    for (format, doc) in [(Format::Json, &json), (Format::Csv, &csv)] {
        let mut it = Entries::new(trickle(doc.as_bytes()), format);
        let (mut n, mut total) = (0u64, 0u64);
        for e in it.by_ref() {
            let e = e.expect("parses");
            assert_eq!(e.size, n);
            n += 1;
            total += e.size;
        }
        assert_eq!(n, N);
        assert_eq!(total, N * (N - 1) / 2);
        if format == Format::Json {
            assert_eq!(it.header().vault_arn.as_deref(), Some("end"));
        }
    }
}

#[test]
fn malformed_json_says_what_and_where() {
    let ok_entry = r#"{"ArchiveId":"a","CreationDate":"d","Size":1,"SHA256TreeHash":"h"}"#;
    let after_entry = 16 + ok_entry.len() as u64;
    let cases: Vec<(String, u64, &str)> = vec![
        (
            r#"{"ArchiveList" []}"#.into(),
            15,
            "expected ':' after an object key, found '['",
        ),
        (
            "[]".into(),
            0,
            "expected '{' starting the inventory object, found '['",
        ),
        (
            "".into(),
            0,
            "expected '{' starting the inventory object, found end of input",
        ),
        (
            r#"{"ArchiveList":["#.into(),
            16,
            "expected '{' starting an archive entry, found end of input",
        ),
        (
            format!(r#"{{"ArchiveList":[{ok_entry},]}}"#),
            after_entry + 1,
            "expected '{' starting an archive entry, found ']'",
        ),
        (
            format!(r#"{{"ArchiveList":[{ok_entry} {ok_entry}]}}"#),
            after_entry + 1,
            "expected ',' or ']' after an archive entry, found '{'",
        ),
        (
            r#"{"ArchiveList":[],}"#.into(),
            18,
            "expected a string key, found '}'",
        ),
        (
            r#"{"ArchiveList":[]} x"#.into(),
            19,
            "expected end of input after the inventory object, found 'x'",
        ),
        (
            r#"{"VaultARN":"v"}"#.into(),
            16,
            "the inventory object has no ArchiveList",
        ),
        (
            r#"{"ArchiveList":{}}"#.into(),
            15,
            "expected '[' after \"ArchiveList\":, found '{'",
        ),
        (r#"{"X":"a\x"}"#.into(), 8, "invalid escape \\x"),
        (r#"{"X":"\udc00"}"#.into(), 7, "lone low surrogate \\udc00"),
        (
            r#"{"X":"\ud83d"}"#.into(),
            7,
            "expected a \\u low surrogate after a high surrogate",
        ),
        (
            r#"{"X":"\ud83d\u0041"}"#.into(),
            7,
            "expected a low surrogate, found \\u0041",
        ),
        (
            r#"{"X":"\u12g4"}"#.into(),
            10,
            "expected 4 hex digits after \\u, found 'g'",
        ),
        (
            "{\"X\":\"a\tb\"}".into(),
            7,
            "control character byte 0x09 must be escaped in a string",
        ),
        (r#"{"X":"abc"#.into(), 5, "unterminated string"),
        (r#"{"X":tru}"#.into(), 5, "expected true"),
        (
            r#"{"X":01}"#.into(),
            6,
            "expected ',' or '}' after an object member, found '1'",
        ),
        (r#"{"X":1.}"#.into(), 7, "expected a digit after '.'"),
        (r#"{"X":-}"#.into(), 6, "expected a digit, found '}'"),
        (
            format!("{{\"X\":{}}}", "[".repeat(200)),
            133,
            "values nested deeper than 128 levels",
        ),
        (
            r#"{"ArchiveList":[{"Size":-1}]}"#.into(),
            24,
            "expected Size to be a non-negative integer below 2^64, found -1",
        ),
        (
            r#"{"ArchiveList":[{"Size":1.5}]}"#.into(),
            24,
            "expected Size to be a non-negative integer below 2^64, found 1.5",
        ),
        (
            r#"{"ArchiveList":[{"Size":18446744073709551616}]}"#.into(),
            24,
            "expected Size to be a non-negative integer below 2^64, found 18446744073709551616",
        ),
        (
            r#"{"ArchiveList":[{"Size":"1"}]}"#.into(),
            24,
            "expected a number for Size, found '\"'",
        ),
        (
            r#"{"ArchiveList":[{"ArchiveId":7}]}"#.into(),
            29,
            "expected a string for ArchiveId, found '7'",
        ),
    ];
    for (doc, offset, message) in cases {
        let m = malformed(Format::Json, doc.as_bytes());
        assert_eq!((m.offset, m.message.as_str()), (offset, message), "{doc}");
    }
    let bad_utf8 = b"{\"VaultARN\":\"\xff\"}";
    assert_eq!(
        malformed(Format::Json, bad_utf8).message,
        "string is not valid UTF-8"
    );
    let long = format!(r#"{{"VaultARN":"{}"}}"#, "x".repeat(MAX_FIELD_BYTES + 1));
    assert_eq!(
        malformed(Format::Json, long.as_bytes()).message,
        format!("string longer than {MAX_FIELD_BYTES} bytes")
    );
}

#[test]
fn malformed_error_reads_well_in_a_chain() {
    let err = Entries::new(&b"{\"ArchiveList\" []}"[..], Format::Json)
        .find_map(|e| e.err())
        .expect("an error");
    assert_eq!(
        crate::error::chain(&err),
        "inventory: malformed JSON at byte 15: expected ':' after an object key, found '['"
    );
}

#[test]
fn read_errors_are_transport_errors() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
        }
    }
    let err =
        render(Broken, Format::Json, Render::Table, &mut Vec::new()).expect_err("the read fails");
    assert_eq!(
        crate::error::chain(&err),
        "inventory: reading the job output: reset"
    );
}

#[test]
fn csv_quotes_newlines_and_reordered_columns() {
    let doc = concat!(
        "\u{feff}Size,Extra,SHA256TreeHash,ArchiveDescription,CreationDate,ArchiveId\r\n",
        "10,\"x,y\",h1,\"a, b \"\"quoted\"\"\r\nline 2\",d1,id1\r\n",
        "\r\n",
        "20,,h2,,d2,\"id2\"\n",
        "30,z,h3,plain \"mid\" quote,d3,id3",
    );
    let (entries, header) = parse(Format::Csv, doc);
    assert_eq!(header, Header::default());
    assert_eq!(
        entries,
        vec![
            entry("id1", "a, b \"quoted\"\r\nline 2", "d1", 10, "h1"),
            entry("id2", "", "d2", 20, "h2"),
            entry("id3", "plain \"mid\" quote", "d3", 30, "h3"),
        ]
    );
}

/// "Get Job Output", CSV format: Glacier escapes a quote inside a quoted field with a
/// backslash and leaves other backslashes alone; doubled quotes (RFC 4180, our own
/// output) still read.
#[test]
fn csv_reads_glacier_backslash_escapes_and_doubled_quotes() {
    let doc = concat!(
        "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n",
        "\"id1\",\"say \\\"hi\\\".txt\",\"d1\",1,\"h1\"\n",
        "\"id2\",\"C:\\dir\\x, \\\"q\\\"\",\"d2\",2,\"h2\"\n",
        "\"id3\",\"ends with a quote\\\"\",\"d3\",3,\"h3\"\n",
        "id4,\"say \"\"hi\"\".txt\",d4,4,h4\n",
        "id5,back\\slash \\\" unquoted,d5,5,h5\n",
    );
    let (entries, _) = parse(Format::Csv, doc);
    assert_eq!(
        entries,
        vec![
            entry("id1", "say \"hi\".txt", "d1", 1, "h1"),
            entry("id2", "C:\\dir\\x, \"q\"", "d2", 2, "h2"),
            entry("id3", "ends with a quote\"", "d3", 3, "h3"),
            entry("id4", "say \"hi\".txt", "d4", 4, "h4"),
            entry("id5", "back\\slash \\\" unquoted", "d5", 5, "h5"),
        ]
    );
}

/// Our CSV output reads back also where a quote follows a backslash, which the reader
/// takes for Glacier's escape.
#[test]
fn csv_output_with_backslashes_reads_back() {
    let descriptions = ["a\\\"b", "\\\"", "x\\\\\"\",y", "\\\"\"", "c:\\d, e"];
    let mut doc = String::from("ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n");
    for (i, d) in descriptions.iter().enumerate() {
        let mut line = Vec::new();
        csv_line(
            &mut line,
            &[
                format!("id{i}"),
                d.to_string(),
                "d".into(),
                "1".into(),
                "h".into(),
            ],
        )
        .expect("writes");
        doc.push_str(std::str::from_utf8(&line).expect("UTF-8"));
    }
    let (entries, _) = parse(Format::Csv, &doc);
    let got: Vec<&str> = entries.iter().map(|e| e.description.as_str()).collect();
    assert_eq!(got, descriptions, "{doc}");
}

#[test]
fn csv_without_description_column() {
    let (entries, _) = parse(
        Format::Csv,
        "ArchiveId,CreationDate,Size,SHA256TreeHash\ni,d,1,h\n",
    );
    assert_eq!(entries, vec![entry("i", "", "d", 1, "h")]);
}

#[test]
fn malformed_csv_says_what_and_where() {
    let head = "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n";
    let cases: Vec<(String, u64, String)> = vec![
        ("".into(), 0, "expected a header row, found end of input".into()),
        (
            "ArchiveId,Size\n".into(),
            0,
            "header row has no SHA256TreeHash column (expected ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash)".into(),
        ),
        (format!("{head}i,\"unterminated,d,1,h\n"), 64, "unterminated quoted field".into()),
        (format!("{head}i,\"q\"x,d,1,h\n"), 67, "expected ',' or end of line after a closing quote, found 'x'".into()),
        (format!("{head}i,,d,1\n"), 62, "expected 5 fields as in the header row, found 4".into()),
        (format!("{head}i,,d,1,h,extra\n"), 62, "expected 5 fields as in the header row, found 6".into()),
        (format!("{head}i,,d,-1,h\n"), 62, "expected Size to be a non-negative integer below 2^64, found '-1'".into()),
    ];
    for (doc, offset, message) in cases {
        let m = malformed(Format::Csv, doc.as_bytes());
        assert_eq!(
            (m.offset, m.message.as_str()),
            (offset, message.as_str()),
            "{doc}"
        );
        assert_eq!(m.format, Format::Csv);
    }
    let bad_utf8 = [head.as_bytes(), b"\xff,,d,1,h\n"].concat();
    assert_eq!(
        malformed(Format::Csv, &bad_utf8).message,
        "ArchiveId is not valid UTF-8"
    );
}

/// Kept fields are capped; skipped ones (unknown keys and columns) are never buffered,
/// so any length passes.
#[test]
fn only_kept_fields_are_capped() {
    let big = "x".repeat(MAX_FIELD_BYTES + 10);
    let csv = format!("ArchiveId,Other,CreationDate,Size,SHA256TreeHash\ni,\"{big}\",d,1,h\n");
    assert_eq!(
        parse(Format::Csv, &csv).0,
        vec![entry("i", "", "d", 1, "h")]
    );
    let json = format!(
        r#"{{"Other":"{big}","ArchiveList":[{{"ArchiveId":"i","X":["{big}"],"CreationDate":"d","Size":1,"SHA256TreeHash":"h"}}]}}"#
    );
    assert_eq!(
        parse(Format::Json, &json).0,
        vec![entry("i", "", "d", 1, "h")]
    );
    let csv = format!("ArchiveId,CreationDate,Size,SHA256TreeHash\ni,\"{big}\",1,h\n");
    let m = malformed(Format::Csv, csv.as_bytes());
    assert_eq!(
        (m.offset, m.message),
        (43, format!("field longer than {MAX_FIELD_BYTES} bytes"))
    );
}

#[test]
fn table_output() {
    let expected = concat!(
        "ARCHIVE ID          SIZE  CREATED               DESCRIPTION\n",
        "AAAAAAAAAAAA     1.5 GiB  2023-12-24T10:00:00Z  holiday, 2023\n",
        "BBBBBBBBBBBB       512 B  2023-12-25T10:00:00Z  say \"hi\"\\nthere\n",
        "2 archives, 1.5 GiB total\n",
    );
    assert_eq!(
        rendered(FIXTURE_JSON, Format::Json, Render::Table),
        expected
    );
    assert_eq!(rendered(FIXTURE_CSV, Format::Csv, Render::Table), expected);
}

#[test]
fn table_with_one_archive_and_no_description() {
    let doc = r#"{"ArchiveList":[{"ArchiveId":"short","CreationDate":"d","Size":2048,"SHA256TreeHash":"h"}]}"#;
    assert_eq!(
        rendered(doc, Format::Json, Render::Table),
        concat!(
            "ARCHIVE ID        SIZE  CREATED               DESCRIPTION\n",
            "short          2.0 KiB  d\n",
            "1 archive, 2.0 KiB total\n",
        )
    );
}

#[test]
fn jsonl_output() {
    let expected = concat!(
        r#"{"archive_id":"AAAAAAAAAAAA","description":"holiday, 2023","creation_date":"2023-12-24T10:00:00Z","size":1610612736,"tree_hash":"aa11"}"#,
        "\n",
        r#"{"archive_id":"BBBBBBBBBBBB","description":"say \"hi\"\nthere","creation_date":"2023-12-25T10:00:00Z","size":512,"tree_hash":"bb22"}"#,
        "\n",
    );
    assert_eq!(
        rendered(FIXTURE_JSON, Format::Json, Render::Jsonl),
        expected
    );
    assert_eq!(rendered(FIXTURE_CSV, Format::Csv, Render::Jsonl), expected);
}

#[test]
fn csv_output() {
    assert_eq!(
        rendered(FIXTURE_JSON, Format::Json, Render::Csv),
        FIXTURE_CSV
    );
    assert_eq!(rendered(FIXTURE_CSV, Format::Csv, Render::Csv), FIXTURE_CSV);
}

#[test]
fn json_output_copies_a_json_inventory_unchanged() {
    // Whitespace, key order and escapes that a re-serialization would change.
    let doc = "{ \"ArchiveList\" : [ {\"ArchiveId\":\"\\u0041\",\"CreationDate\":\"d\",\
               \"Size\":1,\"SHA256TreeHash\":\"h\",\"Other\":[1]} ],\n\"VaultARN\":null }\n\n";
    let mut out = Vec::new();
    let summary = render(
        trickle(doc.as_bytes()),
        Format::Json,
        Render::Json,
        &mut out,
    )
    .expect("renders");
    assert_eq!(String::from_utf8(out).expect("UTF-8"), doc);
    assert_eq!(
        summary,
        Summary {
            archives: 1,
            total_bytes: 1,
            unusable: 0
        }
    );
    assert_eq!(
        rendered(FIXTURE_JSON, Format::Json, Render::Json),
        FIXTURE_JSON
    );
}

#[test]
fn json_output_from_csv_has_glaciers_shape() {
    let expected = concat!(
        r#"{"ArchiveList":[{"ArchiveId":"AAAAAAAAAAAA","ArchiveDescription":"holiday, 2023","#,
        r#""CreationDate":"2023-12-24T10:00:00Z","Size":1610612736,"SHA256TreeHash":"aa11"},"#,
        r#"{"ArchiveId":"BBBBBBBBBBBB","ArchiveDescription":"say \"hi\"\nthere","#,
        r#""CreationDate":"2023-12-25T10:00:00Z","Size":512,"SHA256TreeHash":"bb22"}]}"#,
        "\n"
    );
    assert_eq!(rendered(FIXTURE_CSV, Format::Csv, Render::Json), expected);
    let empty = "ArchiveId,CreationDate,Size,SHA256TreeHash\r\n";
    assert_eq!(
        rendered(empty, Format::Csv, Render::Json),
        "{\"ArchiveList\":[]}\n"
    );
}

#[test]
fn round_trips_through_every_rendering() {
    let want = fixture_entries();
    let csv = rendered(FIXTURE_JSON, Format::Json, Render::Csv);
    assert_eq!(parse(Format::Csv, &csv).0, want, "JSON → CSV → parse");
    let json = rendered(&csv, Format::Csv, Render::Json);
    assert_eq!(parse(Format::Json, &json).0, want, "CSV → JSON → parse");
    let lines = rendered(&json, Format::Json, Render::Jsonl);
    let back: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(back.len(), 2);
    assert_eq!(back[1]["description"], "say \"hi\"\nthere");
}

#[test]
fn a_closed_pipe_is_reported_as_such() {
    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    // Large enough to overflow the output buffer while rendering.
    let mut doc = String::from("ArchiveId,CreationDate,Size,SHA256TreeHash\n");
    for i in 0..10_000 {
        writeln!(doc, "id{i},d,{i},h").expect("String");
    }
    let json = rendered(&doc, Format::Csv, Render::Json);
    for (format, input) in [(Format::Csv, &doc), (Format::Json, &json)] {
        for r in [Render::Table, Render::Json, Render::Jsonl, Render::Csv] {
            let err =
                render(input.as_bytes(), format, r, &mut Closed).expect_err("the pipe is closed");
            assert!(matches!(err, Error::BrokenPipe), "{format} {r:?}: {err:?}");
        }
    }
}

#[test]
fn formats_parse_from_their_names() {
    assert_eq!("JSON".parse::<Format>().ok(), Some(Format::Json));
    assert_eq!("csv".parse::<Format>().ok(), Some(Format::Csv));
    assert!("xml".parse::<Format>().is_err());
    assert_eq!("jsonl".parse::<Render>().ok(), Some(Render::Jsonl));
    assert_eq!("table".parse::<Render>().ok(), Some(Render::Table));
    assert!(matches!("TABLE".parse::<Render>(), Err(Error::Usage(_))));
}

/// Members the service model does not mark required may be absent or null. A
/// missing description or creation date is unknown (`-`, `null`); an entry without an
/// archive ID, size or tree hash identifies no archive: skipped and counted, and the
/// entries after it still come.
#[test]
fn optional_members_are_unknown_and_unidentifiable_entries_are_skipped_and_counted() {
    let json = concat!(
        r#"{"ArchiveList":["#,
        r#"{"ArchiveId":"a","Size":1,"SHA256TreeHash":"h1"},"#,
        r#"{"ArchiveId":"b","CreationDate":null,"ArchiveDescription":null,"Size":2,"SHA256TreeHash":"h2"},"#,
        r#"{"ArchiveId":"c","CreationDate":"d","Size":3},"#,
        r#"{"ArchiveId":null,"CreationDate":"d","Size":4,"SHA256TreeHash":"h4"},"#,
        r#"{"ArchiveId":"e","CreationDate":"d","Size":null,"SHA256TreeHash":""},"#,
        r#"{"ArchiveId":"f","CreationDate":"d","Size":6,"SHA256TreeHash":"h6"}]}"#
    );
    let csv = concat!(
        "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n",
        "a,,,1,h1\n",
        "b,,,2,h2\n",
        "c,,d,3,\n",
        ",,d,4,h4\n",
        "e,,d,,\n",
        "f,,d,6,h6\n",
    );
    let want = vec![
        entry("a", "", "", 1, "h1"),
        entry("b", "", "", 2, "h2"),
        entry("f", "", "d", 6, "h6"),
    ];
    for (format, doc) in [(Format::Json, json), (Format::Csv, csv)] {
        let mut it = Entries::new(trickle(doc.as_bytes()), format);
        let got = it.by_ref().collect::<Result<Vec<_>>>().expect("parses");
        assert_eq!(got, want, "{format}");
        assert_eq!(it.unusable().count, 3, "{format}");
        let note = it.unusable().note().expect("a note");
        assert!(note.starts_with("3 inventory entries skipped"), "{note}");
        assert!(note.contains("no SHA256TreeHash"), "{note}");
    }
    // The first one named is the first skipped, with where it is.
    let mut e = Entries::new(trickle(json.as_bytes()), Format::Json);
    e.by_ref().for_each(drop);
    let at = json.find(r#"{"ArchiveId":"c""#).expect("c");
    assert_eq!(
        e.unusable().first.as_deref(),
        Some(format!("no SHA256TreeHash (entry at byte {at})").as_str())
    );
    // Shown as unknown, never as an empty or made-up value.
    let table = rendered(json, Format::Json, Render::Table);
    let line = table.lines().find(|l| l.starts_with("a ")).expect("a line");
    assert!(line.trim_end().ends_with(" -"), "{table}");
    let jsonl = rendered(json, Format::Json, Render::Jsonl);
    assert!(
        jsonl
            .lines()
            .next()
            .expect("line")
            .contains("\"creation_date\":null"),
        "{jsonl}"
    );
    let doc = rendered(json, Format::Json, Render::Json);
    assert!(doc.contains(r#""CreationDate":null"#), "{doc}");
    // The summary counts what was left out, whatever the rendering.
    for r in [Render::Table, Render::Json, Render::Jsonl, Render::Csv] {
        let mut out = Vec::new();
        let sum = render(json.as_bytes(), Format::Json, r, &mut out).expect("renders");
        assert_eq!((sum.archives, sum.unusable), (3, 3), "{r:?}");
    }
    // No CreationDate column at all is fine too.
    let (entries, _) = parse(Format::Csv, "ArchiveId,Size,SHA256TreeHash\ni,1,h\n");
    assert_eq!(entries, vec![entry("i", "", "", 1, "h")]);
}
