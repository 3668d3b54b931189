//! SigV4 canonicalization on arbitrary requests: nothing panics; the canonical query does
//! not depend on parameter order; canonical headers do not depend on the case of header
//! names or on whitespace around names and values; `uri_encode` emits only unreserved
//! characters and `%XX` and decodes back to its input; `canonical_uri` only emits
//! unreserved characters, `%XX` and single slashes, and is a fixed point on the paths it
//! produces from unreserved characters; the Authorization header round-trips through
//! `parse_authorization`, also when `sign` builds it; under S3's settings the canonical
//! URI is the wire path itself (single encoding, no normalization), and `sign_with` under
//! the default settings is `sign`.
#![no_main]

use glacier_upload::sigv4::{
    self, ParsedAuthorization, Request, Scope, SigningParams, SigningSettings, authorization,
    canonical_headers, canonical_query, canonical_request, canonical_uri, canonical_uri_with,
    parse_authorization, signed_headers, uri_encode,
};
use glacier_upload_fuzz::{Unstructured, arbitrary, nonempty_from, shuffle, string_from};
use libfuzzer_sys::fuzz_target;

/// Characters that matter to the encoders and the header parser, plus multi-byte ones.
const TRICKY: &[char] = &[
    'a',
    'Z',
    '0',
    '9',
    '-',
    '.',
    '_',
    '~',
    '/',
    '%',
    '+',
    '=',
    '&',
    ';',
    ',',
    ':',
    ' ',
    '\t',
    '\r',
    '\n',
    '"',
    '\0',
    '\u{7f}',
    '\u{a0}',
    '\u{e9}',
    '\u{3000}',
    '\u{1f600}',
    'K',
    'k',
    'S',
    's',
];

/// SigV4's unreserved set plus `/`: the characters a Glacier request path is made of.
const PATH: &[char] = &['a', 'Z', '0', '-', '.', '_', '~', '/'];

/// What may stand in a Credential part: anything but `/` and `,` (the separators).
const CREDENTIAL: &[char] = &[
    'A',
    'K',
    'I',
    'D',
    '0',
    '7',
    '-',
    '_',
    '=',
    ' ',
    ':',
    '.',
    '\u{e9}',
    '\u{1f600}',
];

/// Lowercase signed-header name characters (no `;` or `,`).
const HEADER_NAME: &[char] = &['a', 'z', '0', '-', '_', '.', ':', '\u{e9}'];

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Checks `encoded` is made of unreserved characters, `%XX` (uppercase hex) and, when
/// allowed, `/`, and returns the bytes it decodes to.
fn decode(encoded: &str, slash_allowed: bool) -> Vec<u8> {
    let b = encoded.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3).expect("%XX has two digits");
                assert!(
                    hex.iter()
                        .all(|h| h.is_ascii_digit() || (b'A'..=b'F').contains(h)),
                    "lowercase or bad hex in {encoded:?}"
                );
                let s = std::str::from_utf8(hex).expect("hex digits are ASCII");
                out.push(u8::from_str_radix(s, 16).expect("two hex digits"));
                i += 3;
            }
            b'/' if slash_allowed => {
                out.push(b'/');
                i += 1;
            }
            c => {
                assert!(
                    is_unreserved(c),
                    "byte {c:#x} left unencoded in {encoded:?}"
                );
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn pairs(u: &mut Unstructured, max: usize) -> arbitrary::Result<Vec<(String, String)>> {
    let n = u.int_in_range(0..=max)?;
    (0..n)
        .map(|_| Ok((string_from(u, TRICKY, 12)?, string_from(u, TRICKY, 12)?)))
        .collect()
}

fn borrow(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Some SigV4 whitespace (SP, HT, CR, LF) to pad a value with.
fn header_space(u: &mut Unstructured) -> arbitrary::Result<String> {
    string_from(u, &[' ', '\t', '\r', '\n'], 3)
}

fn check(u: &mut Unstructured) -> arbitrary::Result<()> {
    let method = string_from(u, TRICKY, 8)?;
    let path: String = if u.arbitrary()? {
        u.arbitrary()?
    } else {
        string_from(u, TRICKY, 24)?
    };
    let query = pairs(u, 6)?;
    let headers = pairs(u, 6)?;
    let (q, h) = (borrow(&query), borrow(&headers));

    // No panic anywhere on the signing path, whatever the request.
    let req = Request {
        method: &method,
        path: &path,
        query: &q,
        headers: &h,
        payload_sha256: sigv4::EMPTY_PAYLOAD_SHA256,
    };
    let creq = canonical_request(&req);
    assert!(creq.starts_with(&format!("{method}\n")));

    // uri_encode: only unreserved and %XX (and '/' when kept); decodes to the input.
    for s in [&path, &method] {
        for slash in [true, false] {
            let enc = uri_encode(s, slash);
            assert_eq!(decode(&enc, !slash), s.as_bytes(), "{s:?} -> {enc:?}");
        }
    }

    // canonical_uri: well-formed output for any path; idempotent on unreserved paths, and
    // the identity on already-normal ones.
    let cu = canonical_uri(&path);
    assert!(
        cu.starts_with('/') && !cu.contains("//"),
        "{path:?} -> {cu:?}"
    );
    decode(&cu, true);
    let clean = format!("/{}", string_from(u, PATH, 24)?);
    let once = canonical_uri(&clean);
    assert_eq!(canonical_uri(&once), once, "not idempotent for {clean:?}");
    // Normal: no empty (so no trailing slash either), `.` or `..` segment.
    let normal = clean[1..]
        .split('/')
        .all(|seg| !matches!(seg, "" | "." | ".."));
    if normal {
        assert_eq!(once, clean, "a normal unreserved path changed");
    }

    // S3 signs the wire path as it is: a path with its leading '/' is its own canonical
    // URI, and one without gets the '/' added; the default settings are canonical_uri.
    let s3 = canonical_uri_with(&path, &SigningSettings::S3);
    if path.starts_with('/') {
        assert_eq!(s3, path);
    } else {
        assert_eq!(s3, format!("/{path}"));
    }
    assert_eq!(canonical_uri_with(&path, &SigningSettings::default()), cu);

    // canonical_query: any order of the same pairs gives the same string.
    let mut shuffled = q.clone();
    shuffle(u, &mut shuffled)?;
    assert_eq!(canonical_query(&q), canonical_query(&shuffled));

    // canonical_headers / signed_headers: ASCII case of names and padding around names
    // and values do not matter.
    let mut varied = Vec::with_capacity(headers.len());
    for (name, value) in &headers {
        let mut n = String::new();
        n.push_str(&string_from(u, &[' ', '\t'], 2)?);
        for c in name.chars() {
            n.push(if u.arbitrary()? {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            });
        }
        n.push_str(&string_from(u, &[' ', '\t'], 2)?);
        let v = format!("{}{value}{}", header_space(u)?, header_space(u)?);
        varied.push((n, v));
    }
    let hv = borrow(&varied);
    assert_eq!(canonical_headers(&h), canonical_headers(&hv));
    assert_eq!(signed_headers(&h), signed_headers(&hv));

    // parse_authorization: never panics; parses back what authorization() writes.
    let _ = parse_authorization(&path);
    let _ = parse_authorization(&format!("{} {path}", sigv4::ALGORITHM));
    let akid = nonempty_from(u, CREDENTIAL, 20)?;
    let region = nonempty_from(u, CREDENTIAL, 12)?;
    let service = nonempty_from(u, CREDENTIAL, 8)?;
    let date = format!("{:08}", u.int_in_range(0..=99_999_999u32)?);
    let n = u.int_in_range(1..=5)?;
    let names: Vec<String> = (0..n)
        .map(|_| nonempty_from(u, HEADER_NAME, 10))
        .collect::<arbitrary::Result<_>>()?;
    let sig: String = u
        .arbitrary::<[u8; 32]>()?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let scope = Scope {
        date: &date,
        region: &region,
        service: &service,
    };
    let value = authorization(&akid, &scope, &names.join(";"), &sig);
    let parsed = parse_authorization(&value).expect("authorization() output parses");
    assert_eq!(
        parsed,
        ParsedAuthorization {
            access_key_id: akid.clone(),
            date: date.clone(),
            region: region.clone(),
            service: service.clone(),
            signed_headers: names,
            signature: sig,
        }
    );
    assert_eq!(parsed.scope(), scope);

    // sign(): the whole chain; its header parses back whenever the header names it was
    // given make a valid SignedHeaders list.
    let amz_date = format!("{date}T000000Z");
    let signed = sigv4::sign(&req, &akid, "secret", &amz_date, &region, &service);
    let params = SigningParams {
        access_key_id: &akid,
        secret_access_key: "secret",
        amz_date: &amz_date,
        region: &region,
        service: &service,
        settings: SigningSettings::default(),
    };
    assert_eq!(sigv4::sign_with(&req, &params), signed);
    let list = signed_headers(&h);
    let list_ok = !list.is_empty()
        && list
            .split(';')
            .all(|n| !n.is_empty() && !n.contains([',', ' ']));
    match parse_authorization(&signed) {
        Ok(p) => {
            assert_eq!(p.access_key_id, akid);
            assert_eq!(p.signed_headers.join(";"), list);
        }
        Err(e) => assert!(!list_ok, "sign() output does not parse: {e}"),
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = check(&mut Unstructured::new(data));
});
