//! The one integration-test binary: the real `glacier` binary driven against files and
//! the mock Glacier server.

mod archive_delete_cli;
mod bad_input;
mod common_cli;
mod crash_resume;
mod credentials_chain;
mod credentials_cli;
mod credentials_container;
mod credentials_sts;
mod docs;
mod download_small;
mod export_cli;
mod export_names_cli;
mod export_pacing;
mod export_reruns;
mod export_workflow;
mod fault_matrix;
mod faults;
mod file_safety;
mod foreign_uploads;
mod fuzz_regressions;
mod inventory_names_cli;
mod inventory_pages;
mod jobs_cli;
mod json_output;
mod limit_rate_cli;
mod migrate_cli;
#[allow(dead_code)]
mod mock;
mod mock_payload_hash;
mod mock_selftest;
mod pack_memory;
mod plan_cli;
mod purge_cli;
mod purge_s3_cli;
mod response_nulls;
mod retrieval_cli;
mod review_findings;
mod s3_after_complete;
mod s3_client;
mod s3_faults;
mod s3_stream;
mod secrets;
mod shards_cli;
#[allow(dead_code)]
mod sts;
mod support;
mod tls;
mod tree_hash_cli;
mod upload_cli;
mod upload_recovery;
mod uploads_cli;
mod vault_cli;
mod vault_counts;
mod vault_delete_cli;
mod workflow_reports;
