//! The vault operations: ListVaults, CreateVault, DescribeVault, DeleteVault.

use time::OffsetDateTime;

use super::ACCOUNT_ID;
use super::error::ApiError;
use super::http::{Head, Response};
use super::store::{Store, Vault, new_vault, parse_limit, vault_arn};

pub fn list_vaults(store: &Store, head: &Head) -> Result<Response, ApiError> {
    let limit = parse_limit(head, 10)?;
    let st = store.lock();
    // Glacier's marker here is the ARN of the last vault returned: listing resumes after it.
    let after = match head.query("marker") {
        None => None,
        Some(m) => Some(
            m.strip_prefix(&vault_arn(""))
                .ok_or_else(|| ApiError::invalid(format!("Invalid marker: {m}")))?
                .to_string(),
        ),
    };
    let all: Vec<&Vault> = st
        .vaults
        .values()
        .filter(|v| after.as_deref().is_none_or(|a| v.name.as_str() > a))
        .collect();
    let page: Vec<&Vault> = all.iter().take(limit).copied().collect();
    let marker = if all.len() > limit {
        page.last().map(|v| vault_arn(&v.name))
    } else {
        None
    };
    let list: Vec<serde_json::Value> = page.iter().map(|v| v.json()).collect();
    Ok(Response::json(
        200,
        &serde_json::json!({"Marker": marker, "VaultList": list}),
    ))
}

pub fn create_vault(store: &Store, name: &str, now: OffsetDateTime) -> Result<Response, ApiError> {
    if !valid_vault_name(name) {
        return Err(ApiError::invalid(format!(
            "The vault name is not valid: {name}. Vault names are 1 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'."
        )));
    }
    let mut st = store.lock();
    // CreateVault is idempotent: an existing vault is not an error.
    st.vaults
        .entry(name.to_string())
        .or_insert_with(|| new_vault(name, now));
    Ok(Response::new(201).header("Location", format!("/{ACCOUNT_ID}/vaults/{name}")))
}

pub fn describe_vault(store: &Store, name: &str) -> Result<Response, ApiError> {
    let st = store.lock();
    Ok(Response::json(200, &st.vault(name)?.json()))
}

/// "Delete Vault": succeeds "only if there are no archives in the vault as of the last
/// inventory and there have been no writes to the vault since the last inventory";
/// otherwise 400 InvalidParameterValueException. A vault never written has neither.
pub fn delete_vault(store: &Store, name: &str) -> Result<Response, ApiError> {
    let mut st = store.lock();
    let v = st.vault(name)?;
    let inventoried_empty = v.inventory.as_ref().is_none_or(|i| i.archives.is_empty());
    if v.written || !inventoried_empty {
        return Err(ApiError::invalid(format!(
            "Vault not empty or recently written to: {}",
            vault_arn(name)
        )));
    }
    st.vaults.remove(name);
    Ok(Response::new(204))
}

/// Is `s` a valid vault name: 1–255 of `a-z A-Z 0-9 _ - .` ("Create Vault").
pub fn valid_vault_name(s: &str) -> bool {
    (1..=255).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}
