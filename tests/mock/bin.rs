//! Runs the mock Glacier server on its own, for the README demo and the benchmarks:
//!
//! ```text
//! cargo run --release --example mock-glacier -- [--port N] [--dir DIR] [--vault NAME]...
//!     [--job-polls N]
//! ```
//!
//! The first line on stdout is the URL; the test credentials and matching environment
//! variables go to stderr. It serves until killed. Jobs complete after `--job-polls`
//! DescribeJob calls (default 0: at once), since nothing else can complete them here.
//! Without `--dir` the storage is a temporary directory that a kill leaves behind; its
//! path is printed.

#[allow(dead_code)]
#[path = "mod.rs"]
mod mock;

use std::io::Write;
use std::path::PathBuf;

fn usage() -> ! {
    eprintln!("usage: mock-glacier [--port N] [--dir DIR] [--vault NAME]... [--job-polls N]");
    std::process::exit(2);
}

fn main() {
    let mut cfg = mock::MockConfig {
        job_completes_after_polls: Some(0),
        ..mock::MockConfig::default()
    };
    let mut vaults = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--port" => cfg.port = value().parse().unwrap_or_else(|_| usage()),
            "--dir" => cfg.dir = Some(PathBuf::from(value())),
            "--vault" => vaults.push(value()),
            "--job-polls" => {
                cfg.job_completes_after_polls = Some(value().parse().unwrap_or_else(|_| usage()))
            }
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    let server = mock::MockGlacier::start_with(cfg);
    for v in &vaults {
        server.create_vault(v);
    }
    let url = server.url();
    println!("{url}");
    let _ = std::io::stdout().flush();
    eprintln!(
        "mock Glacier listening on {url}, storage in {}",
        server.dir().display()
    );
    eprintln!("test credentials (they only work against this mock):");
    eprintln!("  export AWS_ACCESS_KEY_ID={}", mock::ACCESS_KEY);
    eprintln!("  export AWS_SECRET_ACCESS_KEY='{}'", mock::SECRET_KEY);
    eprintln!("  export AWS_REGION={}", mock::REGION);
    eprintln!("  export AWS_ENDPOINT_URL_GLACIER={url}");
    loop {
        std::thread::park();
    }
}
