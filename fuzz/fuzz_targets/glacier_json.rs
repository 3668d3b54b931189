//! Glacier's JSON bodies: the public serde types (`JobDescription`, `VaultDescription`,
//! `UploadDescription`, `InventoryParameters`, `JobRequest`) and the shapes they arrive
//! in (list pages, the error body; those structs are private to the client, so the same
//! shapes are declared here around the public item types).
//!
//! Invariants: arbitrary bytes never panic a parser; values generated from the input
//! survive serialize → deserialize unchanged, also when the JSON has its keys reordered,
//! unknown keys added and `null`/default members left out (Glacier omits or nulls what
//! does not apply); list pages give back their items and marker; `JobRequest` writes
//! exactly the members that are set.
#![no_main]

use glacier_upload::glacier::{
    InventoryParameters, JobDescription, JobRequest, UploadDescription, VaultDescription,
};
use glacier_upload_fuzz::{Unstructured, arbitrary, shuffle};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct JobsPage {
    #[serde(default)]
    job_list: Vec<JobDescription>,
    #[serde(default)]
    marker: Option<String>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct VaultList {
    #[serde(default)]
    vault_list: Vec<VaultDescription>,
    #[serde(default)]
    marker: Option<String>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct UploadsPage {
    #[serde(default)]
    uploads_list: Vec<UploadDescription>,
    #[serde(default)]
    marker: Option<String>,
}

/// Glacier's error body: `{"code": ..., "message": ..., "type": ...}`.
#[derive(Deserialize, Debug, Default)]
struct ErrorBody {
    #[serde(default)]
    #[allow(dead_code)]
    code: String,
    #[serde(default)]
    #[allow(dead_code)]
    message: String,
}

fn any_parse(data: &[u8]) {
    fn one<T: DeserializeOwned>(data: &[u8]) {
        let _ = serde_json::from_slice::<T>(data);
    }
    one::<JobDescription>(data);
    one::<VaultDescription>(data);
    one::<UploadDescription>(data);
    one::<InventoryParameters>(data);
    one::<JobsPage>(data);
    one::<VaultList>(data);
    one::<UploadsPage>(data);
    one::<ErrorBody>(data);
}

fn text(u: &mut Unstructured) -> arbitrary::Result<String> {
    // Mostly short, sometimes with escapes and non-BMP characters.
    let s: String = u.arbitrary()?;
    Ok(s.chars().take(40).collect())
}

fn opt_text(u: &mut Unstructured) -> arbitrary::Result<Option<String>> {
    Ok(if u.arbitrary()? { Some(text(u)?) } else { None })
}

fn job(u: &mut Unstructured) -> arbitrary::Result<JobDescription> {
    Ok(JobDescription {
        job_id: text(u)?,
        action: text(u)?,
        archive_id: opt_text(u)?,
        job_description: opt_text(u)?,
        vault_arn: text(u)?,
        creation_date: text(u)?,
        completed: u.arbitrary()?,
        status_code: text(u)?,
        status_message: opt_text(u)?,
        completion_date: opt_text(u)?,
        archive_size_in_bytes: u.arbitrary()?,
        inventory_size_in_bytes: u.arbitrary()?,
        sha256_tree_hash: opt_text(u)?,
        archive_sha256_tree_hash: opt_text(u)?,
        retrieval_byte_range: opt_text(u)?,
        tier: opt_text(u)?,
        sns_topic: opt_text(u)?,
    })
}

fn vault(u: &mut Unstructured) -> arbitrary::Result<VaultDescription> {
    Ok(VaultDescription {
        vault_arn: text(u)?,
        vault_name: text(u)?,
        creation_date: text(u)?,
        last_inventory_date: opt_text(u)?,
        number_of_archives: u.arbitrary()?,
        size_in_bytes: u.arbitrary()?,
    })
}

fn upload(u: &mut Unstructured) -> arbitrary::Result<UploadDescription> {
    Ok(UploadDescription {
        multipart_upload_id: text(u)?,
        archive_description: opt_text(u)?,
        creation_date: text(u)?,
        part_size_in_bytes: u.arbitrary()?,
        vault_arn: text(u)?,
    })
}

fn inventory_params(u: &mut Unstructured) -> arbitrary::Result<InventoryParameters> {
    Ok(InventoryParameters {
        start_date: opt_text(u)?,
        end_date: opt_text(u)?,
        limit: opt_text(u)?,
        marker: opt_text(u)?,
    })
}

/// Reshapes a serialized object as Glacier might send it, as JSON text: members in
/// another order, `null`s and defaulted members (`defaults`) dropped or kept, unknown
/// members added, whitespace or not. (Written by hand: `serde_json::Map` sorts its keys.)
fn reshape(
    u: &mut Unstructured,
    v: Value,
    defaults: &[(&str, Value)],
) -> arbitrary::Result<String> {
    let Value::Object(map) = v else {
        panic!("a struct serializes to an object: {v}")
    };
    let mut members: Vec<(String, Value)> = Vec::new();
    for (k, v) in map {
        let droppable = v.is_null() || defaults.iter().any(|(dk, dv)| *dk == k && *dv == v);
        if droppable && u.arbitrary()? {
            continue;
        }
        members.push((k, v));
    }
    if u.arbitrary()? {
        members.push(("Unknown".into(), serde_json::json!({"a": [1, null, "x"]})));
    }
    shuffle(u, &mut members)?;
    let ws = if u.arbitrary()? { "\n  " } else { "" };
    let body: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{ws}{} : {v}", Value::String(k.clone())))
        .collect();
    Ok(format!("{{{}{ws}}}", body.join(",")))
}

/// `value` → JSON text → reshaped → parsed gives `value` back.
fn round_trip<T>(
    u: &mut Unstructured,
    value: &T,
    defaults: &[(&str, Value)],
) -> arbitrary::Result<()>
where
    T: serde::Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(value).expect("serializes");
    let back: T = serde_json::from_str(&json).expect("own output parses");
    assert_eq!(&back, value, "{json}");
    let v: Value = serde_json::from_str(&json).expect("valid JSON");
    let text = reshape(u, v, defaults)?;
    let back: T = serde_json::from_str(&text).expect("reshaped JSON parses");
    assert_eq!(&back, value, "{text}");
    Ok(())
}

fn check(data: &[u8]) -> arbitrary::Result<()> {
    any_parse(data);
    let mut u = Unstructured::new(data);
    let u = &mut u;

    let j = job(u)?;
    round_trip(u, &j, &[("VaultARN", Value::String(String::new()))])?;
    let v = vault(u)?;
    let zero = Value::from(0u64);
    round_trip(
        u,
        &v,
        &[("NumberOfArchives", zero.clone()), ("SizeInBytes", zero)],
    )?;
    let up = upload(u)?;
    round_trip(u, &up, &[])?;
    let p = inventory_params(u)?;
    round_trip(u, &p, &[])?;

    // List pages, in Glacier's shape, give back their items and marker.
    let marker = opt_text(u)?;
    let jobs = vec![j.clone(), job(u)?];
    let page = serde_json::json!({"JobList": jobs, "Marker": marker});
    let parsed: JobsPage = serde_json::from_value(page).expect("jobs page");
    assert_eq!((parsed.job_list, parsed.marker), (jobs, marker.clone()));
    let vaults = vec![v, vault(u)?];
    let page = serde_json::json!({"VaultList": vaults, "Marker": marker});
    let parsed: VaultList = serde_json::from_value(page).expect("vault page");
    assert_eq!((parsed.vault_list, parsed.marker), (vaults, marker.clone()));
    let ups = vec![up, upload(u)?];
    let page = serde_json::json!({"UploadsList": ups, "Marker": marker});
    let parsed: UploadsPage = serde_json::from_value(page).expect("uploads page");
    assert_eq!((parsed.uploads_list, parsed.marker), (ups, marker));

    // JobRequest (serialize only): exactly the set members, under Glacier's names.
    let req = JobRequest {
        kind: text(u)?,
        archive_id: opt_text(u)?,
        description: opt_text(u)?,
        sns_topic: opt_text(u)?,
        tier: opt_text(u)?,
        retrieval_byte_range: opt_text(u)?,
        format: opt_text(u)?,
        inventory_retrieval_parameters: if u.arbitrary()? { Some(p) } else { None },
    };
    let Value::Object(m) = serde_json::to_value(&req).expect("serializes") else {
        panic!("JobRequest is an object")
    };
    let s = |v: &Option<String>| v.clone().map(Value::String);
    let expect: Vec<(&str, Option<Value>)> = vec![
        ("Type", Some(Value::String(req.kind.clone()))),
        ("ArchiveId", s(&req.archive_id)),
        ("Description", s(&req.description)),
        ("SNSTopic", s(&req.sns_topic)),
        ("Tier", s(&req.tier)),
        ("RetrievalByteRange", s(&req.retrieval_byte_range)),
        ("Format", s(&req.format)),
        (
            "InventoryRetrievalParameters",
            req.inventory_retrieval_parameters
                .as_ref()
                .map(|p| serde_json::to_value(p).expect("serializes")),
        ),
    ];
    let present = expect.iter().filter(|(_, v)| v.is_some()).count();
    assert_eq!(m.len(), present, "{m:?}");
    for (k, v) in expect {
        assert_eq!(m.get(k), v.as_ref(), "{k}");
    }
    if let Some(Value::Object(ip)) = m.get("InventoryRetrievalParameters") {
        assert!(ip.values().all(|v| !v.is_null()), "nulls written: {ip:?}");
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = check(data);
});
