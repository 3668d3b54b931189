//! Unit tests of each signing step against AWS's documented examples. The published
//! test suite runs case by case in `suite.rs`.

use super::*;

/// The secret of AWS's SigV4 examples (test suite and "derive a signing key" page).
const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

// Glacier Developer Guide, "Signing Requests", example signature calculation for
// Create Vault: https://docs.aws.amazon.com/amazonglacier/latest/dev/amazon-glacier-signing-requests.html
#[test]
fn glacier_developer_guide_create_vault_example() {
    let headers = [
        ("Host", "glacier.us-east-1.amazonaws.com"),
        ("x-amz-date", "20120525T002453Z"),
        ("x-amz-glacier-version", "2012-06-01"),
    ];
    let req = Request {
        method: "PUT",
        path: "/-/vaults/examplevault",
        query: &[],
        headers: &headers,
        payload_sha256: EMPTY_PAYLOAD_SHA256,
    };
    let scope = Scope {
        date: "20120525",
        region: "us-east-1",
        service: "glacier",
    };
    let creq = canonical_request(&req);
    assert_eq!(
        creq,
        "PUT\n\
         /-/vaults/examplevault\n\
         \n\
         host:glacier.us-east-1.amazonaws.com\n\
         x-amz-date:20120525T002453Z\n\
         x-amz-glacier-version:2012-06-01\n\
         \n\
         host;x-amz-date;x-amz-glacier-version\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let sts = string_to_sign("20120525T002453Z", &scope, &creq);
    assert_eq!(
        sts,
        "AWS4-HMAC-SHA256\n\
         20120525T002453Z\n\
         20120525/us-east-1/glacier/aws4_request\n\
         5f1da1a2d0feb614dd03d71e87928b8e449ac87614479332aced3a701f916743"
    );
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let sig = signature(&signing_key(secret, &scope), &sts);
    assert_eq!(
        sig,
        "3ce5b2f2fffac9262b4da9256f8d086b4aaf42eba5f111c21681a65a127b7c2a"
    );
    assert_eq!(
        sign(
            &req,
            "AKIAIOSFODNN7EXAMPLE",
            secret,
            "20120525T002453Z",
            "us-east-1",
            "glacier"
        ),
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20120525/us-east-1/glacier/aws4_request, \
         SignedHeaders=host;x-amz-date;x-amz-glacier-version, \
         Signature=3ce5b2f2fffac9262b4da9256f8d086b4aaf42eba5f111c21681a65a127b7c2a"
    );
}

#[test]
fn amz_date_is_utc_basic_format() {
    let t = time::OffsetDateTime::from_unix_timestamp(1_440_938_160).expect("valid");
    assert_eq!(amz_date(t), "20150830T123600Z");
    // Another offset, same instant: still printed in UTC.
    let east = t.to_offset(time::UtcOffset::from_hms(5, 30, 0).expect("valid offset"));
    assert_eq!(amz_date(east), "20150830T123600Z");
    let t = time::OffsetDateTime::from_unix_timestamp(0).expect("valid");
    assert_eq!(amz_date(t), "19700101T000000Z");
}

#[test]
fn uri_encode_keeps_unreserved_and_encodes_the_rest() {
    let unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    assert_eq!(uri_encode(unreserved, true), unreserved);
    assert_eq!(uri_encode("a b", true), "a%20b");
    assert_eq!(uri_encode("a+b", true), "a%2Bb");
    assert_eq!(uri_encode("a/b", true), "a%2Fb");
    assert_eq!(uri_encode("a/b", false), "a/b");
    assert_eq!(uri_encode("50%", true), "50%25");
    assert_eq!(uri_encode("ሴ", true), "%E1%88%B4");
    assert_eq!(
        uri_encode("=&?#:@!*'()", false),
        "%3D%26%3F%23%3A%40%21%2A%27%28%29"
    );
    assert_eq!(uri_encode("", true), "");
}

#[test]
fn canonical_uri_normalizes_and_encodes_segments_once() {
    let cases = [
        ("", "/"),
        ("/", "/"),
        ("//", "/"),
        ("/-/vaults/my-vault", "/-/vaults/my-vault"),
        ("/-/vaults/my-vault/", "/-/vaults/my-vault/"),
        ("//example//", "/example/"),
        ("/./example", "/example"),
        ("/example/.", "/example/"),
        ("/example/..", "/"),
        ("/a/b/../c", "/a/c"),
        ("/a/b/..", "/a/"),
        ("/../../a", "/a"),
        ("a/b", "/a/b"),
        ("/example space/", "/example%20space/"),
        // A wire path that is already encoded is encoded once more (non-S3 rule).
        ("/example%20space/", "/example%2520space/"),
        ("/double%2Fencode/path", "/double%252Fencode/path"),
        ("/%2E%2E/a", "/%252E%252E/a"),
    ];
    for (path, want) in cases {
        assert_eq!(canonical_uri(path), want, "canonical_uri({path:?})");
    }
}

#[test]
fn canonical_uri_is_stable_on_canonical_glacier_paths() {
    for p in [
        "/",
        "/-/vaults",
        "/123456789012/vaults/my.vault_1-x",
        "/-/vaults/v/multipart-uploads/AbC-_123/",
        "//x/./y/../z",
    ] {
        let once = canonical_uri(p);
        assert_eq!(
            canonical_uri(&once),
            once,
            "canonical_uri not stable on {p:?}"
        );
    }
    assert_eq!(canonical_uri("/-/vaults/v/jobs"), "/-/vaults/v/jobs");
}

#[test]
fn canonical_query_sorts_by_encoded_key_then_value() {
    assert_eq!(canonical_query(&[]), "");
    assert_eq!(
        canonical_query(&[("marker", "a b"), ("limit", "10")]),
        "limit=10&marker=a%20b"
    );
    // Same key: by value. Uppercase sorts before lowercase (byte order).
    assert_eq!(
        canonical_query(&[
            ("Param1", "value2"),
            ("Param1", "Value1"),
            ("Param1", "value1")
        ]),
        "Param1=Value1&Param1=value1&Param1=value2"
    );
    assert_eq!(canonical_query(&[("b", ""), ("a", "")]), "a=&b=");
    // Sorting happens on the encoded form: raw "k0" < "k:" < "kz" < "k~", but ':'
    // becomes "%3A" and '%' (0x25) sorts before digits and letters.
    assert_eq!(
        canonical_query(&[("k~", "1"), ("kz", "2"), ("k:", "3"), ("k0", "4")]),
        "k%3A=3&k0=4&kz=2&k~=1"
    );
    // Same for values under one key.
    assert_eq!(canonical_query(&[("k", "0"), ("k", ":")]), "k=%3A&k=0");
    // Values: reserved characters, slash and UTF-8 are encoded; no form encoding.
    assert_eq!(
        canonical_query(&[("x", "a/b+c=d&e"), ("ሴ", "bar")]),
        "%E1%88%B4=bar&x=a%2Fb%2Bc%3Dd%26e"
    );
}

#[test]
fn canonical_headers_lowercase_sort_trim_fold_and_join() {
    let headers = [
        ("X-Amz-Date", "20150830T123600Z"),
        ("Host", "  example.amazonaws.com "),
        ("My-Header2", "\t\"a   b \t  c\"  "),
        ("my-header1", "value2"),
        ("MY-HEADER1", " value1 "),
        ("My-Header3", "value1\n  value2\r\n value3"),
        ("My-Empty", "   "),
    ];
    assert_eq!(
        canonical_headers(&headers),
        "host:example.amazonaws.com\n\
         my-empty:\n\
         my-header1:value2,value1\n\
         my-header2:\"a b c\"\n\
         my-header3:value1 value2 value3\n\
         x-amz-date:20150830T123600Z\n"
    );
    assert_eq!(
        signed_headers(&headers),
        "host;my-empty;my-header1;my-header2;my-header3;x-amz-date"
    );
    assert_eq!(canonical_headers(&[]), "");
    assert_eq!(signed_headers(&[]), "");
}

#[test]
fn session_token_is_signed_when_the_caller_adds_it() {
    let token = "AQoDYXdzEPT//////////wEXAMPLE+token/with=chars";
    let payload = sha256_hex(b"");
    let without = [
        ("host", "glacier.us-east-1.amazonaws.com"),
        ("x-amz-date", "20150830T123600Z"),
        ("x-amz-content-sha256", payload.as_str()),
    ];
    let mut with = without.to_vec();
    with.push(("X-Amz-Security-Token", token));
    let req = |headers| Request {
        method: "GET",
        path: "/-/vaults",
        query: &[],
        headers,
        payload_sha256: &payload,
    };
    let creq = canonical_request(&req(&with));
    assert!(
        creq.contains(&format!("\nx-amz-security-token:{token}\n")),
        "{creq}"
    );
    let a = sign(
        &req(&with),
        "AKID",
        "secret",
        "20150830T123600Z",
        "us-east-1",
        "glacier",
    );
    let b = sign(
        &req(&without),
        "AKID",
        "secret",
        "20150830T123600Z",
        "us-east-1",
        "glacier",
    );
    let parsed = parse_authorization(&a).expect("own output parses");
    assert_eq!(
        parsed.signed_headers,
        [
            "host",
            "x-amz-content-sha256",
            "x-amz-date",
            "x-amz-security-token"
        ]
    );
    assert_ne!(a, b, "the token must change the signature");
}

#[test]
fn signing_key_matches_the_documented_derivation() {
    // Example from the SigV4 documentation's "derive a signing key" page (the secret
    // with '+', 20150830/us-east-1/iam).
    let scope = Scope {
        date: "20150830",
        region: "us-east-1",
        service: "iam",
    };
    assert_eq!(
        hex::encode(signing_key(EXAMPLE_SECRET, &scope)),
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
    );
}

#[test]
fn parse_authorization_round_trips_sign() {
    let headers = [
        ("Host", "glacier.eu-west-1.amazonaws.com"),
        ("X-Amz-Date", "20240229T235959Z"),
        ("x-amz-glacier-version", "2012-06-01"),
        ("x-amz-content-sha256", EMPTY_PAYLOAD_SHA256),
    ];
    let req = Request {
        method: "GET",
        path: "/-/vaults",
        query: &[("limit", "10")],
        headers: &headers,
        payload_sha256: EMPTY_PAYLOAD_SHA256,
    };
    let value = sign(
        &req,
        "AKIDEXAMPLE",
        "s3cr3t",
        "20240229T235959Z",
        "eu-west-1",
        "glacier",
    );
    let p = parse_authorization(&value).expect("sign output parses");
    assert_eq!(p.access_key_id, "AKIDEXAMPLE");
    assert_eq!(p.date, "20240229");
    assert_eq!(p.region, "eu-west-1");
    assert_eq!(p.service, "glacier");
    assert_eq!(
        p.signed_headers,
        [
            "host",
            "x-amz-content-sha256",
            "x-amz-date",
            "x-amz-glacier-version"
        ]
    );
    assert_eq!(p.signed_headers.join(";"), signed_headers(&headers));
    // What a verifier does: recompute from the parsed scope and compare.
    let sts = string_to_sign("20240229T235959Z", &p.scope(), &canonical_request(&req));
    assert_eq!(
        p.signature,
        signature(&signing_key("s3cr3t", &p.scope()), &sts)
    );
    assert_eq!(
        authorization(
            &p.access_key_id,
            &p.scope(),
            &p.signed_headers.join(";"),
            &p.signature
        ),
        value
    );
    // Component order and spacing are not significant.
    let sig = "0".repeat(64);
    let shuffled = format!(
        "AWS4-HMAC-SHA256 Signature={sig},SignedHeaders=host, Credential=AK/20240229/r/s/aws4_request"
    );
    let p = parse_authorization(&shuffled).expect("reordered parses");
    assert_eq!(
        (p.access_key_id.as_str(), p.signature.as_str()),
        ("AK", sig.as_str())
    );
}

#[test]
fn parse_authorization_rejects_malformed_values() {
    let sig = "a".repeat(64);
    let ok = format!(
        "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={sig}"
    );
    assert!(parse_authorization(&ok).is_ok());
    let bad = [
        ("", "does not start"),
        ("AWS4-HMAC-SHA1 Credential=x", "does not start"),
        (
            "AWS4-HMAC-SHA256Credential=AK/20150830/r/s/aws4_request",
            "space after",
        ),
        (&ok.replace("Credential=", "Credential:") as &str, "no '='"),
        (&ok.replace(", Signature=", ", Sig="), "unknown component"),
        (&format!("{ok}, Signature={sig}"), "twice"),
        (
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
            "no Credential",
        ),
        (&ok.replace("SignedHeaders", "Credential"), "twice"),
        (
            &ok.replace("/aws4_request", "/aws4_request/extra"),
            "AKID/date/region/service",
        ),
        (
            &ok.replace("/service/aws4_request", "/aws4_request"),
            "AKID/date",
        ),
        (&ok.replace("aws4_request", "aws5_request"), "aws4_request"),
        (&ok.replace("AK/", "/"), "empty part"),
        (&ok.replace("20150830", "2015-08-30"), "YYYYMMDD"),
        (
            &ok.replace("host;x-amz-date", "host;;x-amz-date"),
            "SignedHeaders",
        ),
        (
            &ok.replace("host;x-amz-date", "Host;x-amz-date"),
            "SignedHeaders",
        ),
        (&ok.replace(&sig, &"A".repeat(64)), "64 lowercase hex"),
        (&ok.replace(&sig, &"a".repeat(63)), "64 lowercase hex"),
        (&ok.replace(&sig, &"g".repeat(64)), "64 lowercase hex"),
    ];
    for (value, want) in bad {
        let err = parse_authorization(value).expect_err(value);
        assert!(
            err.contains(want),
            "{value:?}: error {err:?} lacks {want:?}"
        );
        assert!(!err.contains(&sig), "error echoes the signature: {err}");
    }
}

/// The worked examples of "Signature Calculations for the Authorization Header:
/// Transferring Payload in a Single Chunk (AWS Signature Version 4)" in the Amazon S3 API
/// Reference (sig-v4-header-based-auth.html), signed with [`SigningSettings::S3`].
mod s3_examples {
    use super::*;

    const S3_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const DATE: &str = "20130524T000000Z";

    fn s3_sign(
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> String {
        let payload = headers
            .iter()
            .find(|(k, _)| *k == "x-amz-content-sha256")
            .map_or(EMPTY_PAYLOAD_SHA256, |(_, v)| *v);
        let req = Request {
            method,
            path,
            query,
            headers,
            payload_sha256: payload,
        };
        sign_with(
            &req,
            &SigningParams {
                access_key_id: "AKIAIOSFODNN7EXAMPLE",
                secret_access_key: S3_SECRET,
                amz_date: DATE,
                region: "us-east-1",
                service: "s3",
                settings: SigningSettings::S3,
            },
        )
    }

    fn signature_of(auth: &str) -> &str {
        auth.rsplit("Signature=").next().unwrap_or_default()
    }

    #[test]
    fn get_object() {
        let auth = s3_sign(
            "GET",
            "/test.txt",
            &[],
            &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("range", "bytes=0-9"),
                ("x-amz-content-sha256", EMPTY_PAYLOAD_SHA256),
                ("x-amz-date", DATE),
            ],
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    /// The key `test$file.text` goes on the wire as `/test%24file.text` and is signed
    /// so, encoded once; the default (double) encoding would sign `/test%2524file.text`.
    #[test]
    fn put_object_signs_the_key_encoded_once() {
        let path = format!("/{}", uri_encode("test$file.text", false));
        assert_eq!(path, "/test%24file.text");
        assert_eq!(canonical_uri_with(&path, &SigningSettings::S3), path);
        assert_eq!(canonical_uri(&path), "/test%2524file.text");
        let payload = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
        let auth = s3_sign(
            "PUT",
            &path,
            &[],
            &[
                ("date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-content-sha256", payload),
                ("x-amz-date", DATE),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ],
        );
        assert_eq!(
            signature_of(&auth),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
    }

    #[test]
    fn get_bucket_lifecycle() {
        let auth = s3_sign(
            "GET",
            "/",
            &[("lifecycle", "")],
            &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-content-sha256", EMPTY_PAYLOAD_SHA256),
                ("x-amz-date", DATE),
            ],
        );
        assert_eq!(
            signature_of(&auth),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
        );
    }

    #[test]
    fn get_bucket_list_objects() {
        let auth = s3_sign(
            "GET",
            "/",
            &[("max-keys", "2"), ("prefix", "J")],
            &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-content-sha256", EMPTY_PAYLOAD_SHA256),
                ("x-amz-date", DATE),
            ],
        );
        assert_eq!(
            signature_of(&auth),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        );
    }

    /// "Do not normalize URI paths for requests to Amazon S3": `a//b/./c/../d` names an
    /// object key of its own, and is signed as sent.
    #[test]
    fn s3_paths_are_not_normalized() {
        let s3 = SigningSettings::S3;
        assert_eq!(
            canonical_uri_with("/b/a//x/./c/../d", &s3),
            "/b/a//x/./c/../d"
        );
        assert_eq!(canonical_uri_with("", &s3), "/");
        assert_eq!(canonical_uri_with("/bkt", &s3), "/bkt");
        assert_eq!(canonical_uri("/b/a//x/./c/../d"), "/b/a/x/d");
        // The default settings are the ones `canonical_uri` uses.
        assert_eq!(
            canonical_uri_with("/a%20b/./c", &SigningSettings::default()),
            canonical_uri("/a%20b/./c")
        );
    }

    #[test]
    fn amz_headers_follow_the_payload_checksum_kind() {
        let h = amz_headers(
            &SigningSettings::S3,
            DATE,
            EMPTY_PAYLOAD_SHA256,
            Some("tok"),
        );
        assert_eq!(
            h,
            [
                ("x-amz-date", DATE),
                ("x-amz-content-sha256", EMPTY_PAYLOAD_SHA256),
                ("x-amz-security-token", "tok"),
            ]
        );
        let plain = amz_headers(
            &SigningSettings::default(),
            DATE,
            EMPTY_PAYLOAD_SHA256,
            None,
        );
        assert_eq!(plain, [("x-amz-date", DATE)]);
    }
}
