//! `vault delete --when-empty`: delete a vault as soon as Glacier allows it, so a
//! cron line or one long run ends with the vault gone.
//!
//! Glacier deletes a vault "only if there are no archives in the vault as of the last
//! inventory and there have been no writes to the vault since the last inventory"
//! ("Delete Vault", `../shared/glacier-api.md`), and takes that inventory about once a
//! day; DescribeVault reports its date and count ("Describe Vault"). So: while the last
//! inventory counts archives (or predates the caller's last deletion), it is "not yet",
//! with the time to look again; otherwise DeleteVault is sent (it is free and
//! idempotent), and a refusal (written since the inventory) is "not yet" too.
//!
//! This module decides and waits; it does not print (notes go to the
//! [`Reporter`](crate::progress::Reporter)) and takes the clock from its options and the
//! stop flag from the [`Ctx`].

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{Error, Result};
use crate::glacier::{Client, VaultDescription};
use crate::progress::Reporter;
use crate::workflow::Ctx;

/// Glacier inventories a vault about once a day: the next look after an inventory.
pub const INVENTORY_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// How to wait.
pub struct Options<'a> {
    /// The vault.
    pub vault: &'a str,
    /// Keep checking until deleted (`--wait`), else check once.
    pub wait: bool,
    /// Pause between checks.
    pub poll: Duration,
    /// The last DeleteArchive this caller sent, if it knows (a purge does): an inventory
    /// taken before it cannot show the vault empty.
    pub deleted_before: Option<OffsetDateTime>,
    /// The clock (tests fix it).
    pub now: &'a dyn Fn() -> OffsetDateTime,
}

/// How it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The vault is gone.
    Deleted,
    /// Not yet.
    NotYet {
        /// Why, naming the vault and the inventory.
        why: String,
        /// When Glacier's next inventory is expected, if known.
        retry_after: Option<OffsetDateTime>,
    },
}

/// Checks (and with `wait`, keeps checking every `poll`) and deletes the vault when
/// Glacier's inventory shows it empty. Without `wait`, one check. Each "not yet" of a
/// wait and each fault ridden out is a note; the context's stop flag ends the wait.
pub fn run(ctx: &Ctx<'_>, opts: &Options<'_>, reporter: &dyn Reporter) -> Result<Outcome> {
    let (client, vault) = (ctx.glacier, opts.vault);
    let note = &mut |m: &str| reporter.note(m);
    // A long wait rides out transient faults (throttling, 5xx, a dropped connection) on
    // DescribeVault and DeleteVault as every long run does; a single check does not.
    let persist = crate::retrieval::Persist {
        backoff: (opts.poll.min(Duration::from_secs(1)), opts.poll),
        stop: ctx.stop,
        retry_mismatch: false,
        tries: if opts.wait { None } else { Some(1) },
    };
    let what = format!("checking vault '{vault}'");
    loop {
        let outcome =
            crate::retrieval::persist(&persist, &what, note, || check(client, vault, opts))?;
        let Outcome::NotYet { why, .. } = &outcome else {
            return Ok(outcome);
        };
        if !opts.wait {
            return Ok(outcome);
        }
        note(&format!(
            "{why}; checking again in {}",
            crate::progress::human_duration(opts.poll)
        ));
        if !crate::retrieval::pause(opts.poll, ctx.stop) {
            return Err(Error::Interrupted(format!(
                "waiting to delete vault '{vault}' interrupted; the vault was not deleted"
            )));
        }
    }
}

/// One look: DescribeVault, then DeleteVault if the inventory allows it.
pub fn check(client: &Client, vault: &str, opts: &Options<'_>) -> Result<Outcome> {
    let d = client.describe_vault(vault)?;
    if let Some(o) = verdict(vault, &d, opts.deleted_before, (opts.now)()) {
        return Ok(o);
    }
    match client.delete_vault(vault) {
        Ok(()) => Ok(Outcome::Deleted),
        Err(e) if refused(&e) => {
            let last = d.last_inventory_date.as_deref().unwrap_or("never");
            Ok(Outcome::NotYet {
                why: format!(
                    "vault '{vault}': Glacier refuses to delete it yet: written since its last inventory ({last})"
                ),
                retry_after: next_inventory(&d, (opts.now)()),
            })
        }
        Err(e) => Err(e),
    }
}

/// What DescribeVault alone says: `None` when DeleteVault may succeed.
pub fn verdict(
    vault: &str,
    d: &VaultDescription,
    deleted_before: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Option<Outcome> {
    let inventory = d
        .last_inventory_date
        .as_deref()
        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok());
    let retry_after = next_inventory(d, now);
    if let Some(deleted) = deleted_before {
        if inventory.is_none_or(|t| t <= deleted) {
            let last = d.last_inventory_date.as_deref().unwrap_or("none yet");
            return Some(Outcome::NotYet {
                why: format!(
                    "vault '{vault}': Glacier's last inventory ({last}) is not later than the last deletion ({})",
                    rfc3339(deleted)
                ),
                retry_after,
            });
        }
    }
    match d.number_of_archives {
        Some(n) if n > 0 => Some(Outcome::NotYet {
            why: format!(
                "vault '{vault}': Glacier's last inventory ({}) counts {n} archives",
                d.last_inventory_date.as_deref().unwrap_or("-")
            ),
            retry_after,
        }),
        // Empty as of the last inventory, or never inventoried (a vault never written
        // can be deleted at once): DeleteVault decides.
        _ => None,
    }
}

/// About a day after the last inventory, or a day from now if that has passed or there
/// was none.
fn next_inventory(d: &VaultDescription, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let after = d
        .last_inventory_date
        .as_deref()
        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        .map(|t| t + INVENTORY_INTERVAL)
        .filter(|t| *t > now);
    Some(after.unwrap_or(now + INVENTORY_INTERVAL))
}

/// RFC 3339 to the second.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// DeleteVault's refusal of a vault not (yet) empty: 400 InvalidParameterValueException,
/// "Vault not empty or recently written to" ("Delete Vault").
fn refused(e: &Error) -> bool {
    e.service().is_some_and(|s| {
        s.status == 400
            && s.code == "InvalidParameterValueException"
            && s.message.contains("not empty")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &Rfc3339).expect("time")
    }

    fn desc(date: Option<&str>, n: Option<u64>) -> VaultDescription {
        VaultDescription {
            last_inventory_date: date.map(String::from),
            number_of_archives: n,
            ..VaultDescription::default()
        }
    }

    #[test]
    fn the_inventory_decides_and_says_when_to_look_again() {
        let now = t("2026-01-02T12:00:00Z");
        let d = desc(Some("2026-01-02T03:00:00Z"), Some(3));
        let Some(Outcome::NotYet { why, retry_after }) = verdict("v", &d, None, now) else {
            panic!("not yet expected");
        };
        assert_eq!(
            why,
            "vault 'v': Glacier's last inventory (2026-01-02T03:00:00Z) counts 3 archives"
        );
        assert_eq!(retry_after, Some(t("2026-01-03T03:00:00Z")));
        // Empty as of the inventory: DeleteVault decides.
        assert_eq!(
            verdict("v", &desc(Some("2026-01-02T03:00:00Z"), Some(0)), None, now),
            None
        );
        assert_eq!(verdict("v", &desc(None, None), None, now), None);
        // An inventory older than the last deletion cannot show the vault empty.
        let deleted = Some(t("2026-01-02T04:00:00Z"));
        let d = desc(Some("2026-01-02T03:00:00Z"), Some(0));
        let Some(Outcome::NotYet { why, .. }) = verdict("v", &d, deleted, now) else {
            panic!("not yet expected");
        };
        assert!(
            why.contains("not later than the last deletion (2026-01-02T04:00:00Z)"),
            "{why}"
        );
        let later = desc(Some("2026-01-02T05:00:00Z"), Some(0));
        assert_eq!(verdict("v", &later, deleted, now), None);
        // An inventory a day old: look again a day from now.
        let old = desc(Some("2025-12-01T00:00:00Z"), Some(1));
        let Some(Outcome::NotYet { retry_after, .. }) = verdict("v", &old, None, now) else {
            panic!("not yet expected");
        };
        assert_eq!(retry_after, Some(t("2026-01-03T12:00:00Z")));
    }
}
