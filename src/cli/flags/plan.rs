//! The flags of `vault plan` and of `vault delete --when-empty`.
//! The inventory and selection flags of `vault plan` are export's, listed, not redefined.

use super::Flag;

/// `vault plan --to`.
pub const PLAN_TO: Flag = Flag {
    long: "--to",
    value: Some("DEST"),
    help: "the export's DIR or s3://BUCKET/PREFIX: s3:// adds S3\n\
           costs; an inventory an export saved there is used",
    ..Flag::VALUE
};
/// `vault plan --names`.
pub const NAMES: Flag = Flag {
    long: "--names",
    value: Some("FILE"),
    help: "CSV of archive_id,name: these names instead of the\n\
           descriptions' (RFC 4180 or Glacier's CSV quoting)",
    ..Flag::VALUE
};
/// `vault plan --prices`.
pub const PRICES: Flag = Flag {
    long: "--prices",
    value: Some("FILE"),
    help: "price table (KEY<TAB>VALUE lines, every key of the\n\
           shipped table)",
    default: Some("us-east-1 list prices, dated in the table"),
    ..Flag::VALUE
};
/// `vault plan --max-bytes-per-day`.
pub const PLAN_MAX_BYTES_PER_DAY: Flag = Flag {
    long: "--max-bytes-per-day",
    value: Some("SIZE"),
    help: "pacing to plan for (e.g. 10T): how many days",
    default: Some("no pacing"),
    ..Flag::VALUE
};
/// `vault export --max-bytes-per-day`: the pace `vault plan` plans for.
pub const EXPORT_MAX_BYTES_PER_DAY: Flag = Flag {
    long: "--max-bytes-per-day",
    value: Some("N"),
    help: "bytes requested per 24 h, oldest first (e.g. 10T)",
    default: Some("no limit"),
    ..Flag::VALUE
};
/// `vault delete --when-empty`.
pub const WHEN_EMPTY: Flag = Flag {
    long: "--when-empty",
    help: "delete only once Glacier's inventory shows the\n\
           vault empty; until then exit 3, 'not yet'",
    ..Flag::SWITCH
};
/// `vault delete --wait` (with `--when-empty`).
pub const WAIT_EMPTY: Flag = Flag {
    long: "--wait",
    help: "with --when-empty: check every --poll until the\n\
           vault can be deleted, then delete it",
    ..Flag::SWITCH
};
/// `vault delete --no-wait` (with `--when-empty`; the default).
pub const NO_WAIT_EMPTY: Flag = Flag {
    long: "--no-wait",
    help: "with --when-empty: check once (the default)",
    ..Flag::SWITCH
};
/// `vault delete --poll` (with `--wait`).
pub const POLL_EMPTY: Flag = Flag {
    long: "--poll",
    value: Some("DURATION"),
    help: "with --wait: time between DescribeVault checks",
    default: Some("1h"),
    ..Flag::VALUE
};
/// `vault purge --wait` (with `--delete-vault`).
pub const PURGE_WAIT: Flag = Flag {
    long: "--wait",
    help: "with --delete-vault: wait (checking hourly) until\n\
           Glacier's inventory shows the vault empty, then delete it",
    default: Some("say to run 'glacier vault delete' tomorrow"),
    ..Flag::SWITCH
};
