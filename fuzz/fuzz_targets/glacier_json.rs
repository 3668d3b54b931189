//! Glacier's JSON bodies, parsed by the client's real types: the item types
//! (`JobDescription`, `VaultDescription`, `UploadDescription`, `InventoryParameters`,
//! `JobRequest`) and the list pages the client reads (`JobsPage`, `VaultList`,
//! `UploadsPage`, `PartsPage`, with `part_range` for ListParts entries).
//!
//! Invariants: arbitrary bytes never panic a parser; every member may be absent or null
//! (the service model marks none required), so dropping any member of a valid body
//! still parses; a generated value printed by `--json` has only snake_case keys, and
//! those keys renamed to Glacier's (`vault_arn` → `VaultARN`) parse back to the same
//! value, also with members reordered, nulls left out and unknown members added; list
//! pages give back their items and marker; `JobRequest` writes exactly the members that
//! are set.
#![no_main]

use glacier_upload::glacier::{
    InventoryParameters, InventoryRetrievalDescription, JobDescription, JobRequest, JobsPage,
    PartsPage, UploadDescription, UploadsPage, VaultDescription, VaultList, part_range,
};
use glacier_upload_fuzz::{Unstructured, arbitrary, shuffle};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn any_parse(data: &[u8]) {
    fn one<T: DeserializeOwned>(data: &[u8]) -> Option<T> {
        serde_json::from_slice::<T>(data).ok()
    }
    one::<JobDescription>(data);
    one::<VaultDescription>(data);
    one::<UploadDescription>(data);
    one::<InventoryParameters>(data);
    one::<JobsPage>(data);
    one::<VaultList>(data);
    one::<UploadsPage>(data);
    if let Some(p) = one::<PartsPage>(data) {
        for part in p.parts.unwrap_or_default() {
            if let Some(r) = part_range(&part) {
                assert!(r.start <= r.end);
            }
        }
    }
}

/// Glacier's name for one of our snake_case output keys.
fn glacier_name(k: &str) -> String {
    let pascal: String = k
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    pascal
        .replace("Arn", "ARN")
        .replace("Sha256", "SHA256")
        .replace("Sns", "SNS")
}

/// Our `--json` object with every key renamed to Glacier's, at every depth; checks on
/// the way that our keys are snake_case.
fn as_glacier(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    assert!(
                        !k.is_empty()
                            && k.bytes().all(|b| b.is_ascii_lowercase()
                                || b.is_ascii_digit()
                                || b == b'_'),
                        "--json key not snake_case: {k}"
                    );
                    (glacier_name(k), as_glacier(v))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(as_glacier).collect()),
        other => other.clone(),
    }
}

fn text(u: &mut Unstructured) -> arbitrary::Result<String> {
    // Mostly short, sometimes with escapes and non-BMP characters.
    let s: String = u.arbitrary()?;
    Ok(s.chars().take(40).collect())
}

fn opt_text(u: &mut Unstructured) -> arbitrary::Result<Option<String>> {
    Ok(if u.arbitrary()? { Some(text(u)?) } else { None })
}

fn opt_u64(u: &mut Unstructured) -> arbitrary::Result<Option<u64>> {
    u.arbitrary()
}

fn job(u: &mut Unstructured) -> arbitrary::Result<JobDescription> {
    Ok(JobDescription {
        job_id: opt_text(u)?,
        action: opt_text(u)?,
        archive_id: opt_text(u)?,
        job_description: opt_text(u)?,
        vault_arn: opt_text(u)?,
        creation_date: opt_text(u)?,
        completed: u.arbitrary()?,
        status_code: opt_text(u)?,
        status_message: opt_text(u)?,
        completion_date: opt_text(u)?,
        archive_size_in_bytes: opt_u64(u)?,
        inventory_size_in_bytes: opt_u64(u)?,
        sha256_tree_hash: opt_text(u)?,
        archive_sha256_tree_hash: opt_text(u)?,
        retrieval_byte_range: opt_text(u)?,
        tier: opt_text(u)?,
        sns_topic: opt_text(u)?,
        inventory_retrieval_parameters: if u.arbitrary()? {
            Some(InventoryRetrievalDescription {
                format: opt_text(u)?,
                start_date: opt_text(u)?,
                end_date: opt_text(u)?,
                limit: opt_text(u)?,
                marker: opt_text(u)?,
            })
        } else {
            None
        },
    })
}

fn vault(u: &mut Unstructured) -> arbitrary::Result<VaultDescription> {
    Ok(VaultDescription {
        vault_arn: opt_text(u)?,
        vault_name: opt_text(u)?,
        creation_date: opt_text(u)?,
        last_inventory_date: opt_text(u)?,
        number_of_archives: opt_u64(u)?,
        size_in_bytes: opt_u64(u)?,
    })
}

fn upload(u: &mut Unstructured) -> arbitrary::Result<UploadDescription> {
    Ok(UploadDescription {
        multipart_upload_id: opt_text(u)?,
        archive_description: opt_text(u)?,
        creation_date: opt_text(u)?,
        part_size_in_bytes: opt_u64(u)?,
        vault_arn: opt_text(u)?,
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
/// another order, `null` members dropped or kept, unknown
/// members added, whitespace or not. (Written by hand: `serde_json::Map` sorts its keys.)
fn reshape(u: &mut Unstructured, v: Value) -> arbitrary::Result<String> {
    let Value::Object(map) = v else {
        panic!("a struct serializes to an object: {v}")
    };
    let mut members: Vec<(String, Value)> = Vec::new();
    for (k, v) in map {
        if v.is_null() && u.arbitrary()? {
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

/// `value` as our `--json` prints it → Glacier's names → reshaped → parsed gives
/// `value` back; and any one member left out still parses.
fn round_trip<T>(u: &mut Unstructured, value: &T) -> arbitrary::Result<Value>
where
    T: serde::Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let ours = serde_json::to_value(value).expect("serializes");
    let glacier = as_glacier(&ours);
    let text = reshape(u, glacier.clone())?;
    let back: T = serde_json::from_str(&text).expect("reshaped JSON parses");
    assert_eq!(&back, value, "{text}");
    if let Value::Object(mut m) = glacier.clone() {
        let keys: Vec<String> = m.keys().cloned().collect();
        if !keys.is_empty() {
            let k = &keys[u.choose_index(keys.len())?];
            m.remove(k);
            let _: T = serde_json::from_value(Value::Object(m))
                .unwrap_or_else(|e| panic!("without {k}: {e}"));
        }
    }
    Ok(glacier)
}

fn check(data: &[u8]) -> arbitrary::Result<()> {
    any_parse(data);
    let mut u = Unstructured::new(data);
    let u = &mut u;

    let j = job(u)?;
    let jg = round_trip(u, &j)?;
    let v = vault(u)?;
    let vg = round_trip(u, &v)?;
    let up = upload(u)?;
    let ug = round_trip(u, &up)?;
    let p = inventory_params(u)?;
    let back: InventoryParameters =
        serde_json::from_value(serde_json::to_value(&p).expect("serializes"))
            .expect("own request parameters parse");
    assert_eq!(back, p);

    // List pages, in Glacier's shape, give back their items and marker.
    let marker = opt_text(u)?;
    let j2 = job(u)?;
    let page = serde_json::json!({"JobList": [jg, as_glacier(&serde_json::to_value(&j2).expect("json"))], "Marker": marker});
    let parsed: JobsPage = serde_json::from_value(page).expect("jobs page");
    assert_eq!((parsed.job_list, parsed.marker), (Some(vec![j, j2]), marker.clone()));
    let page = serde_json::json!({"VaultList": [vg], "Marker": marker});
    let parsed: VaultList = serde_json::from_value(page).expect("vault page");
    assert_eq!((parsed.vault_list, parsed.marker), (Some(vec![v]), marker.clone()));
    let page = serde_json::json!({"UploadsList": [ug], "Marker": marker});
    let parsed: UploadsPage = serde_json::from_value(page).expect("uploads page");
    assert_eq!((parsed.uploads_list, parsed.marker), (Some(vec![up]), marker.clone()));
    let (a, len): (u32, u16) = (u.arbitrary()?, u.arbitrary()?);
    let (start, end) = (u64::from(a), u64::from(a) + u64::from(len));
    let hash = "ab".repeat(32);
    let page = serde_json::json!({"PartSizeInBytes": 1048576, "Parts": [{"RangeInBytes": format!("{start}-{end}"), "SHA256TreeHash": hash}], "Marker": marker});
    let parsed: PartsPage = serde_json::from_value(page).expect("parts page");
    let parts = parsed.parts.expect("parts");
    let r = part_range(&parts[0]).expect("a valid part");
    assert_eq!((r.start, r.end, r.tree_hash.to_hex()), (start, end, hash));

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
