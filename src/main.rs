//! The `glacier` binary: everything happens in [`glacier_upload::cli::main`].

fn main() {
    let argv = std::env::args_os().skip(1).collect();
    std::process::exit(glacier_upload::cli::main(argv));
}
