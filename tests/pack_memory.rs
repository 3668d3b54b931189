//! Packing within `--max-memory`: when not even one thread of liblzma's
//! threaded xz encoder fits, its single-threaded encoder is used if that fits.

use std::io::Read;

use crate::mock::MockGlacier;
use crate::support::{MIB, TempDir, pattern, run, stored};

/// Level 6's threaded encoder needs about 172 MiB for one thread; its single-threaded
/// encoder about 94 MiB (xz(1), "Presets"), plus 6 MiB of pipe. At the default four
/// parts in flight of 8 MiB (32 MiB) `--max-memory 128` leaves 96 MiB, so one part
/// fewer goes at once and the single-threaded encoder takes the 100 MiB it needs.
#[test]
fn xz_level_6_within_128_mib_uses_the_single_threaded_encoder() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up-xz-single");
    let tree = dir.join("tree");
    std::fs::create_dir_all(&tree).expect("mkdir");
    let big = pattern(2 * MIB + 5, 7);
    std::fs::write(tree.join("a.txt"), b"hello").expect("write");
    std::fs::write(tree.join("big.bin"), &big).expect("write");
    let tree_s = tree.to_str().expect("utf8");
    let args = [
        "upload",
        "--xz-level",
        "6",
        "--max-memory",
        "128",
        "v",
        tree_s,
    ];
    let r = run(&mock, dir.path(), &args);
    let id = r.ok().trim().to_string();
    let packed = stored(&mock, "v", &id);
    assert!(!sizes_in_first_block_header(&packed), "single-threaded");
    let tar = unxz(&packed);
    let mut names = Vec::new();
    let mut archive = tar::Archive::new(&tar[..]);
    for entry in archive.entries().expect("tar") {
        let mut entry = entry.expect("entry");
        let name = entry.path().expect("path").to_string_lossy().into_owned();
        if name == "tree/big.bin" {
            let mut got = Vec::new();
            entry.read_to_end(&mut got).expect("read");
            assert!(got == big, "big.bin round trips");
        }
        names.push(name);
    }
    assert!(names.contains(&"tree/a.txt".to_string()), "{names:?}");
    assert!(names.contains(&"tree/big.bin".to_string()), "{names:?}");

    // With room for it, the threaded encoder as before.
    let r = run(
        &mock,
        dir.path(),
        &["upload", "--xz-level", "6", "--no-resume", "v", tree_s],
    );
    let threaded = stored(&mock, "v", r.ok().trim());
    assert!(sizes_in_first_block_header(&threaded), "threaded");
    assert_eq!(unxz(&threaded), tar, "the same tar either way");

    // Below what even the single-threaded encoder needs: one clear usage line.
    let r = run(
        &mock,
        dir.path(),
        &[
            "upload",
            "--xz-level",
            "6",
            "--max-memory",
            "64",
            "v",
            tree_s,
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--xz-level 6"), "{}", r.stderr);
    assert!(
        r.stderr.contains("--max-memory 108 or more"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

fn unxz(packed: &[u8]) -> Vec<u8> {
    let mut tar = Vec::new();
    xz2::read::XzDecoder::new(packed)
        .read_to_end(&mut tar)
        .expect("a valid .tar.xz");
    tar
}

/// Whether the first block header of an xz stream records the block's compressed and
/// uncompressed sizes (Block Flags bits 0x40 and 0x80, .xz file format 1.0.4, 3.1.2).
/// liblzma's threaded encoder knows them when it writes the header and stores them; its
/// single-threaded encoder streams the block and leaves them out: this tells the two
/// encoders' output apart.
fn sizes_in_first_block_header(xz: &[u8]) -> bool {
    // The 12-byte stream header, then the block header's size byte and its flags.
    xz[13] & 0xc0 == 0xc0
}
