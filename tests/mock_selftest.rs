//! Self-tests of the mock Glacier server: raw HTTP requests signed with
//! `glacier_upload::sigv4::sign` (through `mock::client`, a tiny client over a raw
//! `TcpStream`), checking that the mock is as strict as Glacier (signatures, version
//! header, hashes, part rules), that its answers have Glacier's shapes, and that every
//! injected fault fires as configured.

use std::time::{Duration, Instant};

use glacier_upload::treehash::tree_hash;
use time::OffsetDateTime;

use crate::mock::client::{Client, req};
use crate::mock::{Fault, FaultRule, MockConfig, MockGlacier};
use crate::support::pattern;

const MIB: usize = 1 << 20;

fn vault_path(v: &str) -> String {
    format!("/-/vaults/{v}")
}

#[test]
fn bad_credentials_and_headers_are_refused_like_aws() {
    let m = MockGlacier::start();
    m.create_vault("v");
    let mut c = Client::new(&m);
    let mut r = req("GET", "/-/vaults/v");
    r.secret = "wrong".into();
    let resp = c.err(r, 403, "InvalidSignatureException");
    assert!(
        resp.json()["message"]
            .as_str()
            .is_some_and(|s| s.contains("signature we calculated does not match"))
    );
    let mut r = req("GET", "/-/vaults/v");
    r.access = "AKIDOTHER".into();
    c.err(r, 403, "UnrecognizedClientException");
    let mut r = req("GET", "/-/vaults/v");
    r.version = false;
    c.err(r, 400, "MissingParameterValueException");
    // A signed header changed on the way; a required header left unsigned.
    let mut r = req("GET", "/-/vaults/v").h("x-amz-meta", "a");
    r.tamper = Some(("x-amz-meta".into(), "b".into()));
    c.err(r, 403, "InvalidSignatureException");
    let mut r = req("GET", "/-/vaults/v");
    r.tamper = Some(("host".into(), "glacier.us-east-1.amazonaws.com".into()));
    c.err(r, 403, "InvalidSignatureException");
    let mut r = req("GET", "/-/vaults/v");
    r.unsigned = vec![("x-amz-glacier-version".into(), "2012-06-01".into())];
    r.version = false;
    c.ok(r); // the version header need not be signed
    // Duplicate headers are signed joined in order; whitespace is trimmed.
    c.ok(req("GET", "/-/vaults/v")
        .h("x-amz-dup", "  one  ")
        .h("x-amz-dup", "two"));
    // A query value that needs encoding verifies (then is refused as a marker).
    c.err(
        req("GET", "/-/vaults/v/jobs").q("marker", "a b/c+d=é"),
        400,
        "InvalidParameterValueException",
    );
    // A payload hash that does not match the body: small body and streamed body.
    let mut r = req("POST", "/-/vaults/v/jobs").body(b"{\"Type\":\"inventory-retrieval\"}");
    r.payload = Some(glacier_upload::sigv4::EMPTY_PAYLOAD_SHA256.into());
    c.err(r, 400, "InvalidParameterValueException");
    let mut r = req("POST", "/-/vaults/v/archives").body(b"data").tree();
    r.payload = Some(glacier_upload::sigv4::EMPTY_PAYLOAD_SHA256.into());
    c.err(r, 400, "InvalidParameterValueException");
    // A signature from the future.
    let mut r = req("GET", "/-/vaults/v");
    r.date = OffsetDateTime::now_utc() + time::Duration::minutes(20);
    let resp = c.err(r, 403, "InvalidSignatureException");
    assert!(
        resp.json()["message"]
            .as_str()
            .is_some_and(|s| s.starts_with("Signature not yet current: "))
    );
    // Bad account ID and unknown route.
    c.err(req("GET", "/abc/vaults"), 403, "AccessDeniedException");
    c.err(req("GET", "/-/nothing"), 404, "UnknownOperationException");
    // An upload's body streams whatever the account ID: one larger than any small body
    // still gets the account's 403, recorded under its operation.
    let big = vec![7u8; (1 << 20) + 1];
    c.err(
        req("POST", "/abc/vaults/v/archives").body(&big).tree(),
        403,
        "AccessDeniedException",
    );
    let last = m.requests().pop().expect("recorded");
    assert_eq!(last.operation, "UploadArchive");
    // Session token required when configured.
    let m2 = MockGlacier::start_with(MockConfig {
        session_token: Some("tok/en+1".into()),
        ..MockConfig::default()
    });
    let mut c2 = Client::new(&m2);
    c2.err(req("GET", "/-/vaults"), 403, "UnrecognizedClientException");
    let mut r = req("GET", "/-/vaults");
    r.token = Some("tok/en+1".into());
    c2.ok(r);
    // Every response had a distinct request ID, and all went over one connection.
    let ids: std::collections::HashSet<String> =
        m.requests().into_iter().map(|r| r.request_id).collect();
    assert_eq!(ids.len(), m.requests().len());
}

#[test]
fn expired_signature_names_both_times_and_sends_date() {
    let m = MockGlacier::start_with(MockConfig {
        clock_skew_secs: 3600,
        ..MockConfig::default()
    });
    let mut c = Client::new(&m);
    let resp = c.err(req("GET", "/-/vaults"), 403, "InvalidSignatureException");
    let msg = resp.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(msg.starts_with("Signature expired: "), "{msg}");
    assert!(msg.ends_with(" - 15 min.)"), "{msg}");
    let date = resp.header("date").expect("Date header");
    assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
    let mut r = req("GET", "/-/vaults");
    r.date = OffsetDateTime::now_utc() + time::Duration::hours(1);
    c.ok(r);
}

#[test]
fn vaults_paginate_and_refuse_deletion_when_not_empty() {
    let m = MockGlacier::start();
    let mut c = Client::new(&m);
    for i in 0..5 {
        let resp = c.ok(req("PUT", &vault_path(&format!("v{i}"))));
        assert_eq!(resp.status, 201);
        assert_eq!(
            resp.header("location"),
            Some(format!("/012345678901/vaults/v{i}").as_str())
        );
    }
    c.err(
        req("PUT", &vault_path("bad%21name")),
        400,
        "InvalidParameterValueException",
    );
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut r = req("GET", "/-/vaults").q("limit", "2");
        if let Some(mk) = &marker {
            r = r.q("marker", mk);
        }
        let j = c.ok(r).json();
        for v in j["VaultList"].as_array().expect("VaultList") {
            names.push(v["VaultName"].as_str().expect("name").to_string());
            assert!(v["VaultARN"].as_str().is_some());
        }
        match j["Marker"].as_str() {
            Some(mk) => marker = Some(mk.to_string()),
            None => break,
        }
    }
    assert_eq!(names, ["v0", "v1", "v2", "v3", "v4"]);
    m.put_archive("v1", b"hello", "x");
    let resp = c.err(
        req("DELETE", &vault_path("v1")),
        400,
        "InvalidParameterValueException",
    );
    assert!(
        resp.json()["message"]
            .as_str()
            .is_some_and(|s| s.starts_with("Vault not empty or recently written to"))
    );
    assert_eq!(c.ok(req("DELETE", &vault_path("v0"))).status, 204);
    let resp = c.err(
        req("GET", &vault_path("v0")),
        404,
        "ResourceNotFoundException",
    );
    assert_eq!(
        resp.json()["message"],
        "Vault not found for ARN: arn:aws:glacier:us-east-1:012345678901:vaults/v0"
    );
    // Counts are null until the vault's first inventory, then those of the last one.
    let d = c.ok(req("GET", &vault_path("v1"))).json();
    assert!(d["NumberOfArchives"].is_null() && d["SizeInBytes"].is_null());
    assert!(d["LastInventoryDate"].is_null());
    m.take_inventory("v1");
    let d = c.ok(req("GET", &vault_path("v1"))).json();
    assert_eq!(
        (d["NumberOfArchives"].as_u64(), d["SizeInBytes"].as_u64()),
        (Some(1), Some(5))
    );
}

#[test]
fn upload_archive_checks_hashes_and_ids_can_start_with_dash() {
    let m = MockGlacier::start();
    m.create_vault("v");
    let mut c = Client::new(&m);
    let data = pattern(MIB + 7, 1);
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = req("POST", "/-/vaults/v/archives")
            .body(&data)
            .tree()
            .h("x-amz-archive-description", &format!("file {i}"));
        let resp = c.ok(r);
        assert_eq!(resp.status, 201);
        assert_eq!(
            resp.header("x-amz-sha256-tree-hash"),
            Some(tree_hash(&data).to_hex().as_str())
        );
        let id = resp
            .header("x-amz-archive-id")
            .expect("archive id")
            .to_string();
        assert_eq!(id.len(), 138);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        ids.push(id);
    }
    assert_eq!(ids.iter().filter(|i| i.starts_with('-')).count(), 1);
    assert_eq!(
        std::fs::read(m.archive_path("v", &ids[0])).expect("archive"),
        data
    );
    let bad = req("POST", "/-/vaults/v/archives")
        .body(&data)
        .h("x-amz-sha256-tree-hash", &tree_hash(b"other").to_hex());
    c.err(bad, 400, "InvalidParameterValueException");
    let no_tree = req("POST", "/-/vaults/v/archives").body(&data);
    c.err(no_tree, 400, "MissingParameterValueException");
    let bad_desc = req("POST", "/-/vaults/v/archives")
        .body(b"x")
        .tree()
        .h("x-amz-archive-description", "tab\there");
    c.err(bad_desc, 400, "InvalidParameterValueException");
    assert_eq!(m.archives("v").len(), 3);
    let path = format!("/-/vaults/v/archives/{}", ids[0]);
    assert_eq!(c.ok(req("DELETE", &path)).status, 204);
    c.err(req("DELETE", &path), 404, "ResourceNotFoundException");
}

#[test]
fn multipart_upload_with_short_last_part_completes_to_the_right_archive() {
    let m = MockGlacier::start();
    m.create_vault("v");
    let mut c = Client::new(&m);
    let data = pattern(2 * MIB + MIB / 2, 2);
    c.err(
        req("POST", "/-/vaults/v/multipart-uploads").h("x-amz-part-size", "3145728"),
        400,
        "InvalidParameterValueException",
    );
    let resp = c.ok(req("POST", "/-/vaults/v/multipart-uploads")
        .h("x-amz-part-size", "1048576")
        .h("x-amz-archive-description", "mp"));
    let uid = resp
        .header("x-amz-multipart-upload-id")
        .expect("upload id")
        .to_string();
    assert_eq!(uid.len(), 92);
    let up = format!("/-/vaults/v/multipart-uploads/{uid}");
    let part = |i: usize| {
        let end = ((i + 1) * MIB).min(data.len());
        req("PUT", &up)
            .body(&data[i * MIB..end])
            .tree()
            .h("content-range", &format!("bytes {}-{}/*", i * MIB, end - 1))
    };
    // Parts out of order; the last one short.
    for i in [2, 0, 1] {
        assert_eq!(c.ok(part(i)).status, 204);
    }
    // Wrong tree hash, wrong payload hash, bad ranges: refused, stored part untouched.
    let bad = req("PUT", &up)
        .body(&data[..MIB])
        .h("x-amz-sha256-tree-hash", &tree_hash(b"x").to_hex())
        .h("content-range", &format!("bytes 0-{}/*", MIB - 1));
    c.err(bad, 400, "InvalidParameterValueException");
    let unaligned = req("PUT", &up)
        .body(&data[..MIB])
        .tree()
        .h("content-range", &format!("bytes 1-{MIB}/*"));
    c.err(unaligned, 400, "InvalidParameterValueException");
    let equals = req("PUT", &up)
        .body(&data[..MIB])
        .tree()
        .h("content-range", &format!("bytes=0-{}/*", MIB - 1));
    c.err(equals, 400, "InvalidParameterValueException");
    // ListParts paginates.
    let mut ranges = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut r = req("GET", &up).q("limit", "2");
        if let Some(mk) = &marker {
            r = r.q("marker", mk);
        }
        let j = c.ok(r).json();
        assert_eq!(j["PartSizeInBytes"], 1048576);
        for p in j["Parts"].as_array().expect("Parts") {
            ranges.push(p["RangeInBytes"].as_str().expect("range").to_string());
        }
        match j["Marker"].as_str() {
            Some(mk) => marker = Some(mk.to_string()),
            None => break,
        }
    }
    assert_eq!(ranges, ["0-1048575", "1048576-2097151", "2097152-2621439"]);
    let lu = c.ok(req("GET", "/-/vaults/v/multipart-uploads")).json();
    assert_eq!(lu["UploadsList"][0]["MultipartUploadId"], uid.as_str());
    let whole = tree_hash(&data).to_hex();
    let complete = |size: usize, hash: &str| {
        req("POST", &up)
            .h("x-amz-archive-size", &size.to_string())
            .h("x-amz-sha256-tree-hash", hash)
    };
    c.err(
        complete(data.len() + 1, &whole),
        400,
        "InvalidParameterValueException",
    );
    c.err(
        complete(data.len(), &tree_hash(b"x").to_hex()),
        400,
        "InvalidParameterValueException",
    );
    let resp = c.ok(complete(data.len(), &whole));
    assert_eq!(resp.status, 201);
    let id = resp.header("x-amz-archive-id").expect("id").to_string();
    assert_eq!(
        std::fs::read(m.archive_path("v", &id)).expect("archive"),
        data
    );
    assert_eq!(m.archives("v")[0].tree_hash, whole);
    assert_eq!(m.archives("v")[0].description, "mp");
    // Idempotent for a retry; the upload itself is gone.
    let again = c.ok(complete(data.len(), &whole));
    assert_eq!(again.header("x-amz-archive-id"), Some(id.as_str()));
    assert!(m.uploads("v").is_empty());
    c.err(req("GET", &up), 404, "ResourceNotFoundException");
}

#[test]
fn corrupt_part_shows_in_list_parts_and_blocks_completion() {
    let m = MockGlacier::start();
    m.create_vault("v");
    let mut c = Client::new(&m);
    let data = pattern(2 * MIB, 3);
    let resp = c.ok(req("POST", "/-/vaults/v/multipart-uploads").h("x-amz-part-size", "1048576"));
    let uid = resp
        .header("x-amz-multipart-upload-id")
        .expect("id")
        .to_string();
    let up = format!("/-/vaults/v/multipart-uploads/{uid}");
    for i in 0..2 {
        c.ok(req("PUT", &up)
            .body(&data[i * MIB..(i + 1) * MIB])
            .tree()
            .h(
                "content-range",
                &format!("bytes {}-{}/*", i * MIB, (i + 1) * MIB - 1),
            ));
    }
    m.corrupt_part("v", &uid, 1);
    let parts = &m.uploads("v")[0].parts;
    assert_eq!(parts[0].tree_hash, tree_hash(&data[..MIB]).to_hex());
    assert_ne!(parts[1].tree_hash, tree_hash(&data[MIB..]).to_hex());
    let complete = req("POST", &up)
        .h("x-amz-archive-size", &data.len().to_string())
        .h("x-amz-sha256-tree-hash", &tree_hash(&data).to_hex());
    c.err(complete, 400, "InvalidParameterValueException");
    c.ok(req("PUT", &up)
        .body(&data[MIB..])
        .tree()
        .h("content-range", &format!("bytes {MIB}-{}/*", 2 * MIB - 1)));
    let complete = req("POST", &up)
        .h("x-amz-archive-size", &data.len().to_string())
        .h("x-amz-sha256-tree-hash", &tree_hash(&data).to_hex());
    c.ok(complete);
    c.err(req("DELETE", &up), 404, "ResourceNotFoundException");
}

/// Initiates a job and returns its ID.
fn initiate(c: &mut Client, vault: &str, params: serde_json::Value) -> String {
    let r = req("POST", &format!("/-/vaults/{vault}/jobs")).body(params.to_string().as_bytes());
    let resp = c.ok(r);
    assert_eq!(resp.status, 202);
    let id = resp.header("x-amz-job-id").expect("job id").to_string();
    assert_eq!(id.len(), 92);
    id
}

#[test]
fn ranged_job_output_sends_tree_hash_only_on_aligned_ranges() {
    let m = MockGlacier::start();
    m.create_vault("v");
    let data = pattern(5 * MIB + 100, 4);
    let aid = m.put_archive("v", &data, "five");
    let mut c = Client::new(&m);
    // Range validation follows the MiB rules.
    for bad in ["1-1048575", "0-1048574", "0-99999999", "5-4"] {
        let r = req("POST", "/-/vaults/v/jobs").body(
            serde_json::json!({"Type": "archive-retrieval", "ArchiveId": aid, "RetrievalByteRange": bad})
                .to_string()
                .as_bytes(),
        );
        c.err(r, 400, "InvalidParameterValueException");
    }
    // 1 MiB .. 4 MiB: a valid range that is not tree-hash aligned in the archive.
    let jid = initiate(
        &mut c,
        "v",
        serde_json::json!({"Type": "archive-retrieval", "ArchiveId": aid, "RetrievalByteRange": format!("{}-{}", MIB, 4 * MIB - 1), "Tier": "Bulk"}),
    );
    let job = format!("/-/vaults/v/jobs/{jid}");
    let d = c.ok(req("GET", &job)).json();
    assert_eq!(
        (d["Completed"].as_bool(), d["StatusCode"].as_str()),
        (Some(false), Some("InProgress"))
    );
    c.err(
        req("GET", &format!("{job}/output")),
        400,
        "InvalidParameterValueException",
    );
    m.complete_jobs();
    let d = c.ok(req("GET", &job)).json();
    assert_eq!(d["StatusCode"], "Succeeded");
    assert_eq!(d["Action"], "ArchiveRetrieval");
    assert_eq!(d["ArchiveSizeInBytes"].as_u64(), Some(data.len() as u64));
    assert_eq!(
        d["ArchiveSHA256TreeHash"],
        tree_hash(&data).to_hex().as_str()
    );
    assert!(d["SHA256TreeHash"].is_null());
    assert_eq!(
        d["RetrievalByteRange"],
        format!("{}-{}", MIB, 4 * MIB - 1).as_str()
    );
    assert_eq!(d["Tier"], "Bulk");
    let out = &data[MIB..4 * MIB];
    let get = |range: Option<(usize, usize)>| {
        let mut r = req("GET", &format!("{job}/output"));
        if let Some((a, b)) = range {
            r = r.h("range", &format!("bytes={a}-{b}"));
        }
        r
    };
    let whole = c.ok(get(None));
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, out);
    assert_eq!(
        whole.header("x-amz-sha256-tree-hash"),
        Some(tree_hash(out).to_hex().as_str())
    );
    for (a, b, aligned) in [
        (0, MIB - 1, true),
        (0, 2 * MIB - 1, true),
        (2 * MIB, 3 * MIB - 1, true),
        (MIB, 3 * MIB - 1, false),
        (100, 200, false),
        (0, 3 * MIB - 1, true),
    ] {
        let resp = c.ok(get(Some((a, b))));
        assert_eq!(resp.status, 206);
        assert_eq!(resp.body, &out[a..=b]);
        assert_eq!(
            resp.header("content-range"),
            Some(format!("bytes {a}-{b}/{}", out.len()).as_str())
        );
        let want = aligned.then(|| tree_hash(&out[a..=b]).to_hex());
        assert_eq!(
            resp.header("x-amz-sha256-tree-hash"),
            want.as_deref(),
            "{a}-{b}"
        );
    }
    c.err(
        get(Some((0, 3 * MIB))),
        400,
        "InvalidParameterValueException",
    );
    // The whole archive: SHA256TreeHash equals ArchiveSHA256TreeHash; a short last block
    // counts as aligned.
    let jid = initiate(
        &mut c,
        "v",
        serde_json::json!({"Type": "archive-retrieval", "ArchiveId": aid}),
    );
    m.complete_jobs();
    let job = format!("/-/vaults/v/jobs/{jid}");
    let d = c.ok(req("GET", &job)).json();
    assert_eq!(d["SHA256TreeHash"], d["ArchiveSHA256TreeHash"]);
    let tail =
        c.ok(req("GET", &format!("{job}/output")).h("range", &format!("bytes={}-", 4 * MIB)));
    assert_eq!(tail.body, &data[4 * MIB..]);
    assert_eq!(
        tail.header("x-amz-sha256-tree-hash"),
        Some(tree_hash(&data[4 * MIB..]).to_hex().as_str())
    );
    m.expire_job("v", &jid);
    c.err(req("GET", &job), 404, "ResourceNotFoundException");
}

#[test]
fn jobs_complete_after_polls_and_list_filters_paginate() {
    let m = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(2),
        ..MockConfig::default()
    });
    m.create_vault("v");
    let aid = m.put_archive("v", b"abc", "");
    let mut c = Client::new(&m);
    let ids: Vec<String> = (0..3)
        .map(|_| {
            initiate(
                &mut c,
                "v",
                serde_json::json!({"Type": "archive-retrieval", "ArchiveId": aid}),
            )
        })
        .collect();
    let job = format!("/-/vaults/v/jobs/{}", ids[0]);
    let states: Vec<bool> = (0..3)
        .map(|_| {
            c.ok(req("GET", &job)).json()["Completed"]
                .as_bool()
                .expect("Completed")
        })
        .collect();
    assert_eq!(states, [false, false, true]);
    let done = c
        .ok(req("GET", "/-/vaults/v/jobs").q("completed", "true"))
        .json();
    assert_eq!(done["JobList"].as_array().map(Vec::len), Some(1));
    let running = c
        .ok(req("GET", "/-/vaults/v/jobs").q("statuscode", "InProgress"))
        .json();
    assert_eq!(running["JobList"].as_array().map(Vec::len), Some(2));
    c.err(
        req("GET", "/-/vaults/v/jobs").q("statuscode", "finished"),
        400,
        "InvalidParameterValueException",
    );
    let p1 = c.ok(req("GET", "/-/vaults/v/jobs").q("limit", "2")).json();
    let mk = p1["Marker"].as_str().expect("marker").to_string();
    let p2 = c
        .ok(req("GET", "/-/vaults/v/jobs")
            .q("limit", "2")
            .q("marker", &mk))
        .json();
    assert_eq!(p2["JobList"][0]["JobId"], ids[2].as_str());
    assert!(p2["Marker"].is_null());
}

#[test]
fn inventory_in_json_and_csv() {
    let m = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    m.create_vault("v");
    let a = m.put_archive("v", b"one", "say \"hi\", ok");
    let b = m.put_archive("v", &pattern(3000, 5), "");
    m.take_inventory("v");
    let mut c = Client::new(&m);
    let jid = initiate(
        &mut c,
        "v",
        serde_json::json!({"Type": "inventory-retrieval"}),
    );
    let d = c.ok(req("GET", &format!("/-/vaults/v/jobs/{jid}"))).json();
    assert_eq!(d["Action"], "InventoryRetrieval");
    let out = c.ok(req("GET", &format!("/-/vaults/v/jobs/{jid}/output")));
    assert_eq!(out.header("content-type"), Some("application/json"));
    assert!(out.header("x-amz-sha256-tree-hash").is_none());
    assert_eq!(
        d["InventorySizeInBytes"].as_u64(),
        Some(out.body.len() as u64)
    );
    let inv = out.json();
    assert_eq!(
        inv["VaultARN"],
        "arn:aws:glacier:us-east-1:012345678901:vaults/v"
    );
    let list = inv["ArchiveList"].as_array().expect("ArchiveList");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["ArchiveId"], a.as_str());
    assert_eq!(list[0]["ArchiveDescription"], "say \"hi\", ok");
    assert_eq!(list[1]["Size"], 3000);
    assert_eq!(
        list[1]["SHA256TreeHash"],
        tree_hash(&pattern(3000, 5)).to_hex().as_str()
    );
    let jid = initiate(
        &mut c,
        "v",
        serde_json::json!({"Type": "inventory-retrieval", "Format": "CSV", "InventoryRetrievalParameters": {"Limit": "1"}}),
    );
    let d = c.ok(req("GET", &format!("/-/vaults/v/jobs/{jid}"))).json();
    assert_eq!(d["InventoryRetrievalParameters"]["Marker"], b.as_str());
    let csv = c.ok(req("GET", &format!("/-/vaults/v/jobs/{jid}/output")));
    let text = String::from_utf8(csv.body).expect("utf-8");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash")
    );
    let row = lines.next().expect("row");
    // "Get Job Output", CSV format: a quote inside a quoted field is escaped with a
    // backslash (`"say \"hi\", ok"`), not doubled.
    assert!(
        row.starts_with(&format!("\"{a}\",\"say \\\"hi\\\", ok\",")),
        "{row}"
    );
    assert_eq!(lines.next(), None);
}

/// A vault with one archive and a completed whole-archive job; returns the output path.
fn job_ready(m: &MockGlacier, c: &mut Client, data: &[u8]) -> String {
    m.create_vault("v");
    let aid = m.put_archive("v", data, "");
    let jid = initiate(
        c,
        "v",
        serde_json::json!({"Type": "archive-retrieval", "ArchiveId": aid}),
    );
    m.complete_jobs();
    format!("/-/vaults/v/jobs/{jid}/output")
}

#[test]
fn each_fault_fires_as_configured() {
    let m = MockGlacier::start();
    let mut c = Client::new(&m);
    let data = pattern(MIB + 10, 6);
    let out = job_ready(&m, &mut c, &data);

    m.inject(FaultRule::times(Fault::Throttle, Some("DescribeVault"), 2));
    c.err(req("GET", "/-/vaults/v"), 400, "ThrottlingException");
    c.ok(req("GET", "/-/vaults")); // other operations are untouched
    c.err(req("GET", "/-/vaults/v"), 400, "ThrottlingException");
    c.ok(req("GET", "/-/vaults/v"));

    m.inject(FaultRule::times(Fault::Unavailable, None, 1));
    c.err(req("GET", "/-/vaults"), 503, "ServiceUnavailableException");
    m.inject(FaultRule::times(Fault::RequestTimeout, None, 1));
    c.err(req("GET", "/-/vaults"), 408, "RequestTimeoutException");
    m.inject(FaultRule::times(Fault::InternalEmpty, None, 1));
    let resp = c.send(req("GET", "/-/vaults")).expect("response");
    assert_eq!((resp.status, resp.body.len()), (500, 0));

    m.inject(FaultRule::times(Fault::Drop, Some("ListVaults"), 1));
    assert!(
        c.send(req("GET", "/-/vaults")).is_err(),
        "dropped without a response"
    );
    c.ok(req("GET", "/-/vaults"));

    m.inject(FaultRule::times(
        Fault::Slow(Duration::from_millis(300)),
        None,
        1,
    ));
    let t = Instant::now();
    c.ok(req("GET", "/-/vaults"));
    assert!(t.elapsed() >= Duration::from_millis(300));

    // Truncate and Corrupt only touch job output, even when no operation is named.
    m.inject(FaultRule::times(Fault::Truncate, None, 1));
    c.ok(req("GET", "/-/vaults"));
    assert!(c.send(req("GET", &out)).is_err(), "truncated body");
    m.inject(FaultRule::times(Fault::Corrupt, Some("GetJobOutput"), 1));
    let bad = c.ok(req("GET", &out));
    assert_eq!(bad.body.len(), data.len());
    assert_ne!(bad.body, data);
    assert_eq!(
        bad.body.iter().zip(&data).filter(|(a, b)| a != b).count(),
        1
    );
    assert_eq!(
        bad.header("x-amz-sha256-tree-hash"),
        Some(tree_hash(&data).to_hex().as_str())
    );
    assert_eq!(c.ok(req("GET", &out)).body, data);

    let log = m.requests();
    let faults: Vec<Fault> = log.iter().filter_map(|r| r.fault.clone()).collect();
    assert_eq!(faults.len(), 9);
    let dropped = log
        .iter()
        .find(|r| r.fault == Some(Fault::Drop))
        .expect("drop logged");
    assert_eq!(
        (dropped.status, dropped.operation.as_str()),
        (0, "ListVaults")
    );
    assert!(
        log.iter()
            .all(|r| r.headers.iter().any(|(k, _)| k == "authorization"))
    );
}

#[test]
fn rate_faults_are_deterministic() {
    let fired = || {
        let m = MockGlacier::start();
        m.inject(FaultRule {
            fault: Fault::Throttle,
            operation: Some("ListVaults"),
            times: None,
            rate: Some((0.5, 42)),
        });
        let mut c = Client::new(&m);
        (0..20)
            .map(|_| c.send(req("GET", "/-/vaults")).expect("response").status == 400)
            .collect::<Vec<bool>>()
    };
    let a = fired();
    assert_eq!(a, fired());
    let n = a.iter().filter(|x| **x).count();
    assert!((3..=17).contains(&n), "{n} of 20");
}
