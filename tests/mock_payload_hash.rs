//! The mock is exactly as strict as Glacier about `x-amz-content-sha256` ("Common
//! Request Headers": required on Upload Archive and Upload Part only). Elsewhere a
//! request without it is signed over its body's hash and accepted; one with it must
//! sign it and match the body.

use crate::mock::MockGlacier;
use crate::mock::client::{Client, req};

#[test]
fn optional_outside_uploads_and_the_signature_still_covers_the_body() {
    let m = MockGlacier::start();
    m.create_vault("v");
    m.put_archive("v", b"data", "");
    m.take_inventory("v");
    let mut c = Client::new(&m);
    let r = c.ok(req("GET", "/-/vaults/v").no_payload_header());
    assert_eq!(r.status, 200);
    let body = br#"{"Type":"inventory-retrieval"}"#;
    let r = c.ok(req("POST", "/-/vaults/v/jobs")
        .body(body)
        .no_payload_header());
    assert_eq!(r.status, 202);
    // Signed over one body, sent with another: the signature does not verify.
    let mut bad = req("POST", "/-/vaults/v/jobs")
        .body(body)
        .no_payload_header();
    bad.payload = Some(glacier_upload::sigv4::EMPTY_PAYLOAD_SHA256.into());
    let r = c.send(bad).expect("answer");
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "InvalidSignatureException")
    );
}

#[test]
fn required_on_uploads() {
    let m = MockGlacier::start();
    m.create_vault("v");
    let r = Client::new(&m)
        .send(
            req("POST", "/-/vaults/v/archives")
                .body(b"data")
                .tree()
                .no_payload_header(),
        )
        .expect("answer");
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "MissingParameterValueException")
    );
    assert!(m.archives("v").is_empty());
}

#[test]
fn when_present_it_is_signed_and_matches_the_body() {
    let m = MockGlacier::start();
    m.create_vault("v");
    let mut c = Client::new(&m);
    // Sent but not signed.
    let mut r = req("GET", "/-/vaults/v").no_payload_header();
    r.unsigned.push((
        "x-amz-content-sha256".into(),
        glacier_upload::sigv4::EMPTY_PAYLOAD_SHA256.into(),
    ));
    let r = c.send(r).expect("answer");
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "InvalidSignatureException")
    );
    // Signed, but not the body's hash.
    let mut r = req("PUT", "/-/vaults/w");
    r.payload = Some("ab".repeat(32));
    let r = c.send(r).expect("answer");
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "InvalidParameterValueException")
    );
}
