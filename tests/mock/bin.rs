//! Runs the mock Glacier server on its own, for the README demo and the benchmarks:
//!
//! ```text
//! cargo run --release --example mock-glacier -- [--port N] [--dir DIR] [--vault NAME]...
//!     [--job-polls N] [--tls]
//! ```
//!
//! The first line on stdout is the URL; the test credentials and matching environment
//! variables go to stderr. It serves until killed. Jobs complete after `--job-polls`
//! DescribeJob calls (default 0: at once), since nothing else can complete them here.
//! Without `--dir` the storage is a temporary directory that a kill leaves behind; its
//! path is printed.
//!
//! With `--tls` it serves HTTPS (the URL is `https://127.0.0.1:PORT`), with the test
//! certificate of `tests/data/tls/`: clients trust it with `AWS_CA_BUNDLE` set to that
//! directory's `ca.pem`, which is printed with the other variables.

#[allow(dead_code)]
#[path = "mod.rs"]
mod mock;

use std::io::Write;
use std::path::PathBuf;

fn usage() -> ! {
    eprintln!(
        "usage: mock-glacier [--port N] [--dir DIR] [--vault NAME]... [--job-polls N] [--tls]"
    );
    std::process::exit(2);
}

fn main() {
    let mut cfg = mock::MockConfig {
        job_completes_after_polls: Some(0),
        ..mock::MockConfig::default()
    };
    let mut vaults = Vec::new();
    let mut tls = false;
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
            "--tls" => tls = true,
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    // With --tls the front takes the asked-for port and the plain mock a free one.
    let port = cfg.port;
    if tls {
        cfg.port = 0;
    }
    let server = mock::MockGlacier::start_with(cfg);
    for v in &vaults {
        server.create_vault(v);
    }
    let front = tls.then(|| mock::tls::TlsFront::start_on(server.addr(), port));
    let url = match &front {
        Some(f) => f.url("127.0.0.1"),
        None => server.url(),
    };
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
    if tls {
        eprintln!(
            "  export AWS_CA_BUNDLE={}",
            mock::tls::data("ca.pem").display()
        );
    }
    loop {
        std::thread::park();
    }
}
