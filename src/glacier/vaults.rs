//! Vault operations: list, describe, create, delete.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{Call, Client, Page, header, json_body};
use crate::error::{Error, Result};

/// A vault as DescribeVault and ListVaults report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VaultDescription {
    /// The vault's ARN.
    #[serde(rename = "VaultARN")]
    pub vault_arn: String,
    /// The vault's name.
    pub vault_name: String,
    /// When it was created (ISO 8601).
    pub creation_date: String,
    /// When the last inventory was taken, if ever.
    #[serde(default)]
    pub last_inventory_date: Option<String>,
    /// Archives in the last inventory.
    #[serde(default)]
    pub number_of_archives: u64,
    /// Bytes in the last inventory.
    #[serde(default)]
    pub size_in_bytes: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VaultList {
    #[serde(default)]
    vault_list: Vec<VaultDescription>,
    #[serde(default)]
    marker: Option<String>,
}

/// Checks a vault name before anything is sent: 1 to 255 characters of `a-z`, `A-Z`,
/// `0-9`, `_`, `-` and `.` (Glacier Developer Guide, "Creating a Vault").
pub fn check_vault_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "invalid vault name '{name}': use 1 to 255 letters, digits, '_', '-' or '.'"
        )))
    }
}

fn ctx(vault: &str) -> String {
    format!("vault '{vault}'")
}

impl Page for VaultList {
    type Item = VaultDescription;
    fn into_parts(self) -> (Vec<VaultDescription>, Option<String>) {
        (self.vault_list, self.marker)
    }
}

impl Client {
    /// Every vault of the account, following `Marker` across pages.
    pub fn list_vaults(&self) -> Result<Vec<VaultDescription>> {
        self.all_pages::<VaultList>(|| {
            Call::new(
                "ListVaults",
                "the account".into(),
                Method::GET,
                "vaults".into(),
            )
            .query("limit", "1000")
        })
    }

    /// One vault.
    pub fn describe_vault(&self, vault: &str) -> Result<VaultDescription> {
        let call = Call::new(
            "DescribeVault",
            ctx(vault),
            Method::GET,
            Self::vault_path(vault),
        );
        json_body(self.send(&call)?, "DescribeVault")
    }

    /// Creates a vault (Glacier answers success if it already exists); returns its
    /// location.
    pub fn create_vault(&self, vault: &str) -> Result<String> {
        let call = Call::new(
            "CreateVault",
            ctx(vault),
            Method::PUT,
            Self::vault_path(vault),
        )
        .ok(&[201]);
        Ok(header(&self.send(&call)?, "location").unwrap_or_default())
    }

    /// Deletes an empty vault.
    pub fn delete_vault(&self, vault: &str) -> Result<()> {
        let call = Call::new(
            "DeleteVault",
            ctx(vault),
            Method::DELETE,
            Self::vault_path(vault),
        )
        .ok(&[204]);
        self.send(&call).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_names() {
        assert!(check_vault_name("photos-2024_a.b").is_ok());
        assert!(check_vault_name("").is_err());
        assert!(check_vault_name("a b").is_err());
        assert!(check_vault_name(&"x".repeat(256)).is_err());
        let e = check_vault_name("bad/name").expect_err("slash");
        assert!(e.to_string().contains("'bad/name'"));
    }

    #[test]
    fn vault_list_json() {
        let page: VaultList = serde_json::from_str(
            r#"{"Marker":null,"VaultList":[{"CreationDate":"2026-01-01T00:00:00.000Z","LastInventoryDate":null,"NumberOfArchives":0,"SizeInBytes":0,"VaultARN":"arn:aws:glacier:us-east-1:012345678901:vaults/v","VaultName":"v"}]}"#,
        )
        .expect("parse");
        assert_eq!(page.vault_list[0].vault_name, "v");
        assert!(page.marker.is_none());
    }
}
