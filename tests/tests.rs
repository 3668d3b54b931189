//! The one integration-test binary: the real `glacier` binary driven against files and
//! the mock Glacier server.

mod client_cli;
mod export_cli;
mod fuzz_regressions;
mod hardening;
mod inventory_pages;
mod json_output;
mod migrate_cli;
#[allow(dead_code)]
mod mock;
mod mock_payload_hash;
mod mock_selftest;
mod purge_cli;
mod response_nulls;
mod retrieval_cli;
mod review_findings;
mod s3_client;
mod s3_faults;
mod support;
mod tls;
mod tree_hash_cli;
mod upload_cli;
mod upload_recovery;
mod vault_counts;
