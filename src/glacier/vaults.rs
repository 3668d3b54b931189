//! Vault operations: list, describe, create, delete.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{Call, Client, Page, header, json_body};
use crate::error::{Error, Result};

/// A vault as DescribeVault and ListVaults report it.
///
/// Every member is optional: the service model (botocore `glacier/2012-06-01`,
/// `DescribeVaultOutput`) marks none required, and the API Reference ("Describe Vault")
/// says `NumberOfArchives`, `SizeInBytes` and `LastInventoryDate` are null until the
/// vault's first inventory, for example right after it was created. Glacier's
/// PascalCase is read; our `--json` output writes snake_case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "PascalCase", serialize = "snake_case"))]
pub struct VaultDescription {
    /// The vault's ARN.
    #[serde(rename(deserialize = "VaultARN", serialize = "vault_arn"), default)]
    pub vault_arn: Option<String>,
    /// The vault's name.
    #[serde(default)]
    pub vault_name: Option<String>,
    /// When it was created (ISO 8601).
    #[serde(default)]
    pub creation_date: Option<String>,
    /// When the last inventory was taken; `None` before the first.
    #[serde(default)]
    pub last_inventory_date: Option<String>,
    /// Archives in the last inventory; `None` before the first.
    #[serde(default)]
    pub number_of_archives: Option<u64>,
    /// Bytes in the last inventory; `None` before the first.
    #[serde(default)]
    pub size_in_bytes: Option<u64>,
}

/// One page of ListVaults ("List Vaults": `VaultList` and `Marker`, both optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VaultList {
    /// The vaults on this page.
    #[serde(default)]
    pub vault_list: Option<Vec<VaultDescription>>,
    /// Where the next page starts; `None` on the last page.
    #[serde(default)]
    pub marker: Option<String>,
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
        (self.vault_list.unwrap_or_default(), self.marker)
    }
}

impl Client {
    /// Every vault of the account, following `Marker` across pages. No `limit` is sent:
    /// the documented maximum has changed over the years (1,000, now 10), and the
    /// service's default page size with markers is always right.
    pub fn list_vaults(&self) -> Result<Vec<VaultDescription>> {
        self.all_pages::<VaultList>(|| {
            Call::new(
                "ListVaults",
                "the account".into(),
                Method::GET,
                "vaults".into(),
            )
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
            r#"{"Marker":null,"VaultList":[{"CreationDate":"2026-01-01T00:00:00.000Z","LastInventoryDate":null,"NumberOfArchives":null,"SizeInBytes":null,"VaultARN":"arn:aws:glacier:us-east-1:012345678901:vaults/v","VaultName":"v"}]}"#,
        )
        .expect("parse");
        let list = page.vault_list.expect("a list");
        assert_eq!(list[0].vault_name.as_deref(), Some("v"));
        assert_eq!(list[0].number_of_archives, None);
        assert_eq!(list[0].size_in_bytes, None);
        assert!(page.marker.is_none());
    }

    #[test]
    fn vault_members_may_be_absent_or_null() {
        let v: VaultDescription = serde_json::from_str("{}").expect("empty object");
        assert_eq!(v, VaultDescription::default());
        let page: VaultList =
            serde_json::from_str(r#"{"VaultList":null,"Marker":null}"#).expect("null list");
        assert_eq!(page.into_parts(), (vec![], None));
    }

    #[test]
    fn vault_output_is_snake_case_with_nulls() {
        let v: VaultDescription = serde_json::from_str(
            r#"{"VaultARN":"arn","VaultName":"v","CreationDate":"d","NumberOfArchives":null}"#,
        )
        .expect("parse");
        assert_eq!(
            serde_json::to_string(&v).expect("json"),
            r#"{"vault_arn":"arn","vault_name":"v","creation_date":"d","last_inventory_date":null,"number_of_archives":null,"size_in_bytes":null}"#
        );
    }
}
