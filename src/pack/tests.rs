//! Packing tests: round trips through a tar reader, determinism, the scan's refusals,
//! changes during packing, and the size bound.
#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use super::compress::{PIPE_MEMORY, block_size};
use super::read::FileReader;
use super::*;
use crate::error::{Error, Setting};
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use tar::EntryType;

/// A fresh, empty directory for one test.
fn temp_dir(label: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "glacier-pack-{label}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Deterministic bytes that do not compress.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn write(path: &Path, data: &[u8], mode: u32) {
    fs::write(path, data).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn set_mtime(path: &Path, secs: u64) {
    let f = File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

const LONG: &str = "a-file-name-long-enough-that-the-whole-archive-path-needs-a-gnu-long-name-entry-because-it-exceeds-100-bytes.txt";

/// A tree with every kind of entry the packer handles; returns the inputs.
fn sample_tree(root: &Path) -> Vec<PathBuf> {
    let tree = root.join("tree");
    fs::create_dir_all(tree.join("sub/deeper")).unwrap();
    fs::create_dir(tree.join("empty dir")).unwrap();
    write(&tree.join("a.txt"), b"hello\n", 0o644);
    write(&tree.join("empty"), b"", 0o600);
    write(&tree.join("big.bin"), &noise(1_500_000, 7), 0o644);
    write(&tree.join("name with spaces.txt"), b"spaces", 0o644);
    write(&tree.join("h\u{e9}llo-\u{f1}.txt"), b"accents", 0o644);
    write(&tree.join("run.sh"), b"#!/bin/sh\n", 0o755);
    write(&tree.join("sub/deeper/f.txt"), &b"abc".repeat(1000), 0o640);
    write(&tree.join("sub").join(LONG), b"long", 0o644);
    symlink("a.txt", tree.join("link")).unwrap();
    symlink("../nowhere/at/all", tree.join("sub/dangling")).unwrap();
    set_mtime(&tree.join("a.txt"), 1_600_000_000);
    let notes = root.join("notes.txt");
    write(&notes, b"notes", 0o644);
    let top_link = root.join("top-link");
    symlink("tree/a.txt", &top_link).unwrap();
    vec![tree, notes, top_link]
}

fn pack_all(plan: Plan, opts: Options) -> Vec<u8> {
    let mut out = Vec::new();
    reader(plan, &opts, None)
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn fast(threads: u32) -> Options {
    Options {
        compression: Compression::Xz,
        xz_level: 0,
        threads,
        single_threaded: false,
    }
}

fn unxz(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    xz2::read::XzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// What an archive member holds.
#[derive(Debug, PartialEq)]
struct Member {
    name: Vec<u8>,
    kind: EntryType,
    data: Vec<u8>,
    link: Option<PathBuf>,
    mode: u32,
    mtime: u64,
}

fn members(tar_bytes: &[u8]) -> Vec<Member> {
    let mut ar = tar::Archive::new(tar_bytes);
    let mut out = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header().clone();
        assert_eq!(h.uid().unwrap(), 0);
        assert_eq!(h.gid().unwrap(), 0);
        assert_eq!(h.username_bytes().unwrap_or_default(), b"");
        assert_eq!(h.groupname_bytes().unwrap_or_default(), b"");
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push(Member {
            name: e.path_bytes().into_owned(),
            kind: h.entry_type(),
            data,
            link: e.link_name().unwrap().map(|l| l.into_owned()),
            mode: h.mode().unwrap(),
            mtime: h.mtime().unwrap(),
        });
    }
    out
}

#[test]
fn round_trip_keeps_names_contents_links_and_modes() {
    let root = temp_dir("roundtrip");
    let inputs = sample_tree(&root);
    let plan = Plan::scan(&inputs).unwrap();
    let total = plan.total_file_bytes();
    let tar_size = plan.tar_size();
    let bound = plan.size_bound(&fast(2));
    let progress = Arc::new(AtomicU64::new(0));
    let mut xz = Vec::new();
    reader(plan.clone(), &fast(2), Some(Arc::clone(&progress)))
        .unwrap()
        .read_to_end(&mut xz)
        .unwrap();
    assert_eq!(progress.load(Ordering::Relaxed), total);
    assert!(xz.len() as u64 <= bound);
    let tar_bytes = unxz(&xz);
    assert_eq!(tar_bytes.len() as u64, tar_size);

    let got = members(&tar_bytes);
    let names: Vec<String> = got
        .iter()
        .map(|m| String::from_utf8(m.name.clone()).unwrap())
        .collect();
    let want = [
        "notes.txt",
        "top-link",
        "tree/",
        "tree/a.txt",
        "tree/big.bin",
        "tree/empty",
        "tree/empty dir/",
        "tree/h\u{e9}llo-\u{f1}.txt",
        "tree/link",
        "tree/name with spaces.txt",
        "tree/run.sh",
        "tree/sub/",
        &format!("tree/sub/{LONG}"),
        "tree/sub/dangling",
        "tree/sub/deeper/",
        "tree/sub/deeper/f.txt",
    ];
    assert_eq!(names, want);
    assert_eq!(got.len(), plan.entries().len());

    let by_name = |n: &str| got.iter().find(|m| m.name == n.as_bytes()).unwrap();
    let tree = root.join("tree");
    for (name, file) in [
        ("tree/big.bin", tree.join("big.bin")),
        ("tree/empty", tree.join("empty")),
        ("tree/sub/deeper/f.txt", tree.join("sub/deeper/f.txt")),
        (
            "tree/h\u{e9}llo-\u{f1}.txt",
            tree.join("h\u{e9}llo-\u{f1}.txt"),
        ),
        ("notes.txt", root.join("notes.txt")),
    ] {
        let m = by_name(name);
        assert_eq!(m.kind, EntryType::Regular, "{name}");
        assert_eq!(m.data, fs::read(&file).unwrap(), "{name}");
    }
    assert_eq!(by_name(&format!("tree/sub/{LONG}")).data, b"long");
    assert_eq!(by_name("tree/run.sh").mode, 0o755);
    assert_eq!(by_name("tree/sub/deeper/f.txt").mode, 0o640);
    assert_eq!(by_name("tree/empty").mode, 0o600);
    assert_eq!(by_name("tree/a.txt").mtime, 1_600_000_000);
    assert_eq!(by_name("tree/empty dir/").kind, EntryType::Directory);
    let link = by_name("tree/link");
    assert_eq!(link.kind, EntryType::Symlink);
    assert_eq!(link.link.as_deref(), Some(Path::new("a.txt")));
    assert_eq!(
        by_name("tree/sub/dangling").link.as_deref(),
        Some(Path::new("../nowhere/at/all"))
    );
    assert_eq!(
        by_name("top-link").link.as_deref(),
        Some(Path::new("tree/a.txt"))
    );
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn packing_is_deterministic_across_runs_and_thread_counts() {
    let root = temp_dir("determinism");
    let mut inputs = sample_tree(&root);
    // Several xz blocks (1 MiB each at level 0), so two threads really split the work.
    let more = root.join("more.bin");
    write(&more, &noise(3 << 20, 11), 0o644);
    inputs.push(more);
    let one = pack_all(Plan::scan(&inputs).unwrap(), fast(1));
    let two = pack_all(Plan::scan(&inputs).unwrap(), fast(2));
    let again = pack_all(Plan::scan(&inputs).unwrap(), fast(2));
    assert!(one == two, "1 vs 2 threads differ");
    assert!(two == again, "two runs differ");
    // More than one block was written: the block size, not the threads, decides.
    assert!(unxz(&one).len() as u64 > 3 * block_size(0));
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn entries_are_in_byte_order_of_their_path() {
    let root = temp_dir("order");
    let d = root.join("d");
    for name in ["b", "a-c", "a", "Z", "a.b"] {
        fs::create_dir_all(d.join(name)).unwrap();
    }
    write(&d.join("a/b"), b"x", 0o644);
    write(&d.join("a-c/x"), b"x", 0o644);
    let plan = Plan::scan(&[d]).unwrap();
    let names: Vec<&str> = plan
        .entries()
        .iter()
        .map(|e| e.name().to_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "d", "d/Z", "d/a", "d/a-c", "d/a-c/x", "d/a.b", "d/a/b", "d/b"
        ]
    );
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_missing_input_is_named() {
    let root = temp_dir("missing");
    let missing = root.join("no-such-file");
    let err = Plan::scan(std::slice::from_ref(&missing)).unwrap_err();
    assert!(matches!(&err, Error::Io { path, .. } if path == &missing));
    assert!(crate::error::chain(&err).contains("no-such-file"));
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn an_unreadable_file_is_found_by_the_scan() {
    let root = temp_dir("unreadable");
    let d = root.join("d");
    fs::create_dir(&d).unwrap();
    let secret = d.join("secret");
    write(&secret, b"x", 0o000);
    if File::open(&secret).is_ok() {
        // Running as root (or with CAP_DAC_OVERRIDE): mode 000 does not stop reads,
        // so there is nothing to detect. The socket test covers the type check.
        eprintln!("skipped: files with mode 000 are readable here");
    } else {
        let err = Plan::scan(&[d]).unwrap_err();
        assert!(
            matches!(&err, Error::Io { path, .. } if path == &secret),
            "{err:?}"
        );
    }
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_socket_in_a_directory_is_refused_and_named() {
    let root = temp_dir("socket");
    let d = root.join("d");
    fs::create_dir(&d).unwrap();
    let sock = d.join("s.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let err = Plan::scan(&[d]).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Input(_)));
    assert!(msg.contains("s.sock") && msg.contains("socket"), "{msg}");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn two_inputs_with_the_same_name_are_refused() {
    let root = temp_dir("dup");
    fs::create_dir_all(root.join("x")).unwrap();
    fs::create_dir_all(root.join("y")).unwrap();
    write(&root.join("x/report.pdf"), b"1", 0o644);
    write(&root.join("y/report.pdf"), b"2", 0o644);
    let err = Plan::scan(&[root.join("x/report.pdf"), root.join("y/report.pdf")]).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Input(_)));
    assert!(
        msg.contains("x/report.pdf")
            && msg.contains("y/report.pdf")
            && msg.contains("'report.pdf'"),
        "{msg}"
    );
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_dot_input_is_named_after_its_directory() {
    let root = temp_dir("dot");
    let d = root.join("named");
    fs::create_dir(&d).unwrap();
    write(&d.join("f"), b"1", 0o644);
    let plan = Plan::scan(&[d.join("sub/..").join("."), d.join("f")]);
    // `named/sub/..` does not exist (no `sub`), so that is an error naming it...
    assert!(plan.is_err());
    fs::create_dir(d.join("sub")).unwrap();
    let plan = Plan::scan(&[d.join("sub/..")]).unwrap();
    let names: Vec<&Path> = plan.entries().iter().map(|e| e.name()).collect();
    assert_eq!(
        names,
        [
            Path::new("named"),
            Path::new("named/f"),
            Path::new("named/sub")
        ]
    );
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_file_changed_after_the_scan_fails_the_stream() {
    let root = temp_dir("changed");
    let d = root.join("d");
    fs::create_dir(&d).unwrap();
    write(&d.join("a"), b"first", 0o644);
    let grows = d.join("b");
    write(&grows, b"second", 0o644);
    write(&d.join("c"), &noise(100_000, 3), 0o644);
    let plan = Plan::scan(&[d]).unwrap();
    fs::OpenOptions::new()
        .append(true)
        .open(&grows)
        .unwrap()
        .write_all(b" and more")
        .unwrap();
    let mut r = reader(plan, &fast(1), None).unwrap();
    let mut out = Vec::new();
    let err = r.read_to_end(&mut out).unwrap_err();
    let err = error_from_io(err);
    assert!(
        matches!(&err, Error::Io { path, .. } if path == &grows),
        "{err:?}"
    );
    let msg = crate::error::chain(&err);
    assert!(msg.contains("changed while being packed"), "{msg}");
    // The stream stays failed.
    assert!(r.read(&mut [0u8; 16]).is_err());
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_file_that_grows_or_shrinks_while_read_is_detected() {
    let root = temp_dir("growing");
    let f = root.join("f");
    write(&f, &noise(100_000, 5), 0o644);
    let plan = Plan::scan(std::slice::from_ref(&f)).unwrap();
    let entry = &plan.entries()[0];

    let mut r = FileReader::open(entry, None).unwrap();
    let mut buf = vec![0u8; 10_000];
    r.read_exact(&mut buf).unwrap();
    fs::OpenOptions::new()
        .append(true)
        .open(&f)
        .unwrap()
        .write_all(b"more")
        .unwrap();
    let err = io::copy(&mut r, &mut io::sink()).unwrap_err();
    let msg = crate::error::chain(&error_from_io(err));
    assert!(msg.contains("grew beyond the 100000 bytes"), "{msg}");

    write(&f, &noise(100_000, 5), 0o644);
    let plan = Plan::scan(std::slice::from_ref(&f)).unwrap();
    let entry = &plan.entries()[0];
    let mut r = FileReader::open(entry, None).unwrap();
    r.read_exact(&mut buf).unwrap();
    File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_len(50_000)
        .unwrap();
    let err = io::copy(&mut r, &mut io::sink()).unwrap_err();
    let msg = crate::error::chain(&error_from_io(err));
    assert!(
        msg.contains("ended after 50000 of the 100000 bytes"),
        "{msg}"
    );

    // Same size, new content: the modification time gives it away.
    write(&f, &noise(100_000, 5), 0o644);
    set_mtime(&f, 1_000_000_000);
    let plan = Plan::scan(std::slice::from_ref(&f)).unwrap();
    let entry = &plan.entries()[0];
    let mut r = FileReader::open(entry, None).unwrap();
    r.read_exact(&mut buf).unwrap();
    fs::write(&f, noise(100_000, 6)).unwrap();
    let err = io::copy(&mut r, &mut io::sink()).unwrap_err();
    let msg = crate::error::chain(&error_from_io(err));
    assert!(msg.contains("modification time"), "{msg}");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn dropping_the_reader_early_stops_the_packing_thread() {
    let root = temp_dir("drop");
    let f = root.join("big");
    // Far more than the channel holds, so the packer is blocked when we drop.
    write(&f, &noise(24 << 20, 9), 0o644);
    let plan = Plan::scan(&[f]).unwrap();
    let mut r = reader(plan, &fast(2), None).unwrap();
    let mut first = [0u8; 6];
    r.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"\xfd7zXZ\0");
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(r);
        let _ = done_tx.send(());
    });
    // Drop joins the packing thread; it must not hang.
    done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("dropping the reader did not stop the packing thread");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn the_size_bound_holds_for_data_that_does_not_compress() {
    let root = temp_dir("bound");
    let f = root.join("noise");
    write(&f, &noise(2_500_000, 13), 0o644);
    let plan = Plan::scan(&[f]).unwrap();
    let bound = plan.size_bound(&fast(2));
    let xz = pack_all(plan.clone(), fast(2));
    assert!(xz.len() as u64 <= bound, "{} > {bound}", xz.len());
    // Noise does not compress: the bound is really exercised.
    assert!(xz.len() as u64 > plan.total_file_bytes());
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn the_default_description_is_a_file_name() {
    let root = temp_dir("summary");
    let inputs = sample_tree(&root);
    let plan = Plan::scan(&inputs).unwrap();
    assert_eq!(plan.default_description(&fast(1)), "tree+2-more.tar.xz");
    let one = Plan::scan(&inputs[..1]).unwrap();
    assert_eq!(one.default_description(&fast(1)), "tree.tar.xz");
    assert_eq!(one.default_description(&plain()), "tree.tar");
    let many: Vec<PathBuf> = (0..300)
        .map(|i| {
            let p = root.join(format!("\u{e9}t\u{e9}-{i:03}"));
            write(&p, b"x", 0o644);
            p
        })
        .collect();
    let s = Plan::scan(&many).unwrap().default_description(&fast(1));
    assert_eq!(s, "_t_-000+299-more.tar.xz");
    // Printable ASCII, no separators, never empty or dots only, never too long.
    assert_eq!(packed_name("a\\b/", 0, "tar"), "a_b.tar");
    assert_eq!(
        packed_name("..", 1, "tar.xz"),
        "glacier-upload+1-more.tar.xz"
    );
    assert_eq!(packed_name("", 0, "tar.xz"), "glacier-upload.tar.xz");
    let long = packed_name(&"x".repeat(5000), 0, "tar.xz");
    assert!(long.len() < 255, "{}", long.len());
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn bad_options_are_refused_before_packing() {
    let plan = Plan {
        entries: Vec::new(),
        inputs: Vec::new(),
        total_file_bytes: 0,
        tar_size: 1024,
    };
    for opts in [
        Options {
            xz_level: 10,
            ..fast(1)
        },
        Options {
            xz_level: 1,
            ..fast(0)
        },
    ] {
        assert!(matches!(
            reader(plan.clone(), &opts, None),
            Err(Error::Usage(_))
        ));
    }
    assert!(Options::default().memory_usage() > 0);
    assert!(matches!(Plan::scan(&[]), Err(Error::Usage(_))));
}

#[test]
fn the_fingerprint_follows_the_inputs_and_the_options() {
    let root = temp_dir("fingerprint");
    let inputs = sample_tree(&root);
    let a = Plan::scan(&inputs).unwrap();
    let b = Plan::scan(&inputs).unwrap();
    assert_eq!(a.fingerprint(&fast(1)), b.fingerprint(&fast(2)));
    let level1 = Options {
        xz_level: 1,
        ..fast(1)
    };
    assert_ne!(a.fingerprint(&fast(1)), a.fingerprint(&level1));
    // The single-threaded encoder writes other bytes: another fingerprint, and the
    // threaded one's is the same as before the fallback existed.
    let single = Options {
        single_threaded: true,
        ..fast(1)
    };
    assert_ne!(a.fingerprint(&fast(1)), a.fingerprint(&single));
    assert_ne!(
        pack_all(a.clone(), fast(1)),
        pack_all(a.clone(), single),
        "the premise: the encoders' bytes differ"
    );
    set_mtime(&root.join("notes.txt"), 1_500_000_000);
    let c = Plan::scan(&inputs).unwrap();
    assert_ne!(a.fingerprint(&fast(1)), c.fingerprint(&fast(1)));
    fs::remove_dir_all(&root).unwrap();
}

fn plain() -> Options {
    Options {
        compression: Compression::None,
        ..fast(1)
    }
}

#[test]
fn without_compression_the_stream_is_the_same_tar_and_its_size_is_exact() {
    let root = temp_dir("plain");
    let inputs = sample_tree(&root);
    let plan = Plan::scan(&inputs).unwrap();
    let tar_bytes = pack_all(plan.clone(), plain());
    assert_eq!(tar_bytes.len() as u64, plan.tar_size());
    assert_eq!(plan.size_bound(&plain()), plan.tar_size());
    // The same tar stream the xz variant compresses, so as deterministic as that one.
    assert_eq!(tar_bytes, unxz(&pack_all(plan.clone(), fast(2))));
    assert_eq!(plan.default_description(&plain()), "tree+2-more.tar");
    assert_ne!(plan.fingerprint(&plain()), plan.fingerprint(&fast(1)));
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn without_compression_the_archive_unpacks_with_the_system_tar() {
    let root = temp_dir("plain-tar");
    let inputs = sample_tree(&root);
    let plan = Plan::scan(&inputs).unwrap();
    let tar_bytes = pack_all(plan, plain());
    let out = root.join("out");
    fs::create_dir(&out).unwrap();
    let mut child = std::process::Command::new("tar")
        .arg("-xf")
        .arg("-")
        .arg("-C")
        .arg(&out)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&tar_bytes).unwrap();
    assert!(child.wait().unwrap().success());
    let tree = root.join("tree");
    for f in ["a.txt", "big.bin", "run.sh", "sub/deeper/f.txt", "empty"] {
        assert_eq!(
            fs::read(out.join("tree").join(f)).unwrap(),
            fs::read(tree.join(f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(fs::read(out.join("tree/sub").join(LONG)).unwrap(), b"long");
    assert_eq!(fs::read(out.join("notes.txt")).unwrap(), b"notes");
    assert_eq!(
        fs::read_link(out.join("tree/link")).unwrap(),
        Path::new("a.txt")
    );
    assert!(out.join("tree/empty dir").is_dir());
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn encoder_threads_are_chosen_to_fit_the_memory_budget() {
    let level6 = |threads| Options {
        compression: Compression::Xz,
        xz_level: 6,
        threads,
        single_threaded: false,
    };
    let need = |o: Options| o.memory_usage() + PIPE_MEMORY;
    // liblzma's estimate grows with the thread count, so there is something to fit.
    assert!(need(level6(2)) > need(level6(1)));
    assert_eq!(level6(4).fit_memory(u64::MAX).unwrap(), level6(4));
    assert_eq!(level6(4).fit_memory(need(level6(4))).unwrap(), level6(4));
    assert_eq!(level6(4).fit_memory(need(level6(3))).unwrap(), level6(3));
    assert_eq!(
        level6(4).fit_memory(need(level6(2)) - 1).unwrap(),
        level6(1)
    );
    let single = Options {
        single_threaded: true,
        ..level6(1)
    };
    match level6(4).fit_memory(need(single) - 1) {
        Err(Error::Usage(msg)) => {
            assert!(msg.contains(&Setting::MaxMemory.to_string()), "{msg}");
            assert!(msg.contains(&format!("{} 6", Setting::XzLevel)), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    // Without compression only the pipe's buffers count.
    assert_eq!(plain().fit_memory(PIPE_MEMORY).unwrap(), plain());
    assert!(plain().fit_memory(PIPE_MEMORY - 1).is_err());
}

#[test]
fn the_single_threaded_encoder_packs_the_same_tar_deterministically() {
    let root = temp_dir("single");
    let inputs = sample_tree(&root);
    let plan = Plan::scan(&inputs).unwrap();
    // What `--xz-level 6 --max-memory 128` chooses beside the upload's parts.
    let fitted = fit_beside_parts(
        Options {
            xz_level: 6,
            ..fast(4)
        },
        4,
        8 << 20,
        128 << 20,
    )
    .unwrap();
    assert!(fitted.options.single_threaded);
    let packed = pack_all(plan.clone(), fitted.options);
    assert_eq!(
        packed,
        pack_all(plan.clone(), fitted.options),
        "deterministic"
    );
    assert!(packed.len() as u64 <= plan.size_bound(&fitted.options));
    assert_eq!(unxz(&packed), pack_all(plan, plain()), "the same tar");
    fs::remove_dir_all(&root).unwrap();
}
