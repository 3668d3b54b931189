//! One chunk's bytes: fetched from Glacier as a ranged GET (again when the body breaks
//! off or the hash does not match), gathered into blocks, handed to a sink that stores
//! them, and hashed as stored: a file sink writes each block and reads it back, so the
//! tree hash compared with Glacier's is that of what the file holds.

use super::*;

/// One byte range of a job's output: what [`fetch_chunk`] asks Glacier for.
#[derive(Clone, Copy)]
pub(super) struct JobRange<'a> {
    pub(super) client: &'a Client,
    pub(super) vault: &'a str,
    pub(super) job_id: &'a JobId,
    /// The first and last byte, inclusive.
    pub(super) range: (u64, u64),
    /// The whole output's size: a range that covers it is asked for without a Range
    /// header.
    pub(super) output_size: u64,
}

/// One block of a chunk as it arrives, handed to the sink of [`fetch_chunk`].
pub(super) struct Arrived<'a> {
    /// The bytes, as received.
    pub(super) data: &'a mut [u8],
    /// Their offset in the job output.
    pub(super) at: u64,
    /// The chunk's hasher: the sink feeds it the bytes it stored (a file sink feeds what
    /// it read back, so the one hash covers download and disk alike).
    pub(super) hasher: &'a mut ChunkHasher,
    /// The chunk's inclusive byte range in the job output.
    pub(super) range: (u64, u64),
    /// Glacier sent no tree hash for this range, so nothing will check what the sink
    /// hashes: a sink that reads back must compare the bytes themselves.
    pub(super) unchecked: bool,
}

/// Fetches the inclusive byte range of the job output, handing each block to `sink`
/// ([`Arrived`]), which stores it and feeds the chunk's hasher, and checks the hash
/// against the one Glacier sent. A short body, a broken connection or a hash mismatch
/// fetches the chunk again, up to `CHUNK_ATTEMPTS` times. Returns the chunk's tree hash.
///
/// `buf` is the caller's block buffer (reused across chunks, so a download allocates one
/// per worker, not one per chunk); socket reads are gathered into it before `sink` sees
/// them.
pub(super) fn fetch_chunk(
    r: &JobRange<'_>,
    buf: &mut [u8],
    mut sink: impl FnMut(Arrived<'_>) -> Result<()>,
    reporter: &dyn Reporter,
) -> Result<TreeHash> {
    let JobRange {
        client,
        vault,
        job_id,
        range: (start, end),
        output_size,
    } = *r;
    let len = end - start + 1;
    let whole = start == 0 && end + 1 == output_size;
    let mut last = String::new();
    for _attempt in 0..CHUNK_ATTEMPTS {
        let range = if whole { None } else { Some((start, end)) };
        let mut resp = client.job_output(vault, job_id, range)?;
        let sent = resp.tree_hash;
        let mut hasher = ChunkHasher::new();
        let mut got = 0u64;
        let outcome: std::result::Result<(), String> = loop {
            let want = (buf.len() as u64).min(len - got) as usize;
            if want == 0 {
                // Anything beyond the range is a broken answer.
                let mut extra = [0u8; 1];
                break match resp.read(&mut extra) {
                    Ok(0) => Ok(()),
                    Ok(_) => Err("more bytes than the range".into()),
                    Err(e) => Err(e.to_string()),
                };
            }
            // Gather socket reads (up to a few hundred KiB each) into one block before
            // writing and hashing it: one positioned write per block instead of many
            // small ones that queue on the file's lock in the kernel.
            let filled = match fill_block(&mut resp, &mut buf[..want]) {
                Ok(n) => n,
                Err((n, why)) => {
                    break Err(format!(
                        "body {why} after {} of {len} bytes",
                        got + n as u64
                    ));
                }
            };
            sink(Arrived {
                data: &mut buf[..filled],
                at: start + got,
                hasher: &mut hasher,
                range: (start, end),
                unchecked: sent.is_none(),
            })?;
            got += filled as u64;
        };
        if let Err(why) = outcome {
            last = why;
            continue;
        }
        let ours = hasher.finish();
        match sent {
            Some(theirs) if theirs != ours => {
                last =
                    format!("tree hash {ours} of what was stored differs from Glacier's {theirs}");
                continue;
            }
            _ => {}
        }
        reporter.add_bytes(len);
        return Ok(ours);
    }
    Err(Error::Mismatch {
        what: format!("job {job_id}: bytes {start}-{end} after {CHUNK_ATTEMPTS} attempts"),
        expected: "data matching Glacier's tree hash".into(),
        actual: last,
    })
}

/// A chunk's tree hash as its bytes come in: in order ([`ChunkHasher::update`]), or, for
/// whole pairs of leaves, side by side ([`ChunkHasher::update_pair`]: leaf `2k`'s bytes
/// are hashed with leaf `2k+1`'s at the same offset, the two SHA-256 states' rounds
/// interleaved, as `TreeHasher` does with whole chunks in memory).
pub(super) struct ChunkHasher {
    tree: TreeHasher,
    pair: treehash::LeafPair,
}

impl ChunkHasher {
    pub(super) fn new() -> ChunkHasher {
        ChunkHasher {
            tree: TreeHasher::new(),
            pair: treehash::LeafPair::new(),
        }
    }

    /// The next bytes in order (none of a leaf pair's in progress).
    pub(super) fn update(&mut self, data: &[u8]) {
        self.tree.update(data);
    }

    /// The next bytes of a whole leaf pair: `first` of leaf `2k`, `second` of leaf `2k+1`,
    /// at the same offset in each.
    pub(super) fn update_pair(&mut self, first: &[u8], second: &[u8]) {
        self.pair.update(first, second);
        if self.pair.is_full() {
            let (a, b) = self.pair.finish();
            self.tree.push_subtree(0, a);
            self.tree.push_subtree(0, b);
        }
    }

    pub(super) fn finish(self) -> TreeHash {
        self.tree.finish()
    }
}

/// Whether the block of `block` bytes at `offset` (from the start of a chunk of `len`
/// bytes) is hashed side by side with its pair's ([`write_checked`]): its leaf is one of
/// a whole pair, leaves `2k` and `2k+1` both full (any other leaf is the chunk's last, or
/// the archive's short last one), and the blocks tile a leaf in whole 64-byte blocks, so
/// the same offset in the other leaf holds a block of the same size.
pub(super) fn in_whole_pair(offset: u64, len: u64, block: u64) -> bool {
    let second = (offset / CHUNK_SIZE) | 1;
    block > 0
        && block % 64 == 0
        && CHUNK_SIZE % block == 0
        && offset % block == 0
        && (second + 1) * CHUNK_SIZE <= len
}

/// Writes an arrived block at its offset and reads it straight back over the received
/// bytes (still in cache), feeding the chunk's hasher the bytes read back, not the ones
/// received: the tree hash `fetch_chunk` then compares with Glacier's is that of what
/// the file holds, so one SHA-256 pass per byte checks both the download and the disk,
/// and no separate read-back pass over the whole file is needed before the rename.
/// Where Glacier sent no hash for the range (`unchecked`), nothing would check that
/// hash, so the bytes are read back into `back` instead (grown to the block's size on
/// first use) and compared with the bytes received.
///
/// What the read-back proves: the file's range holds these bytes as seen through the
/// kernel (our offsets, a short or misdirected write, a filesystem that returns other
/// bytes than it accepted, a writer that does not take our lock). What it does not prove:
/// that the platter or flash holds them. The read is served from the page cache, so
/// media corruption after write-back, or later, goes unseen; catching that would take
/// O_DIRECT reads after `sync_data`, bypassing the cache at the cost of a real disk read
/// of every byte. A pass after `sync_all` would read from the same cache and prove no
/// more than this.
pub(super) fn write_checked(
    file: &File,
    part: &Path,
    block: Arrived<'_>,
    back: &mut Vec<u8>,
) -> Result<()> {
    let Arrived {
        data,
        at,
        hasher,
        range: (start, end),
        unchecked,
    } = block;
    file.write_all_at(data, at)
        .map_err(|e| Error::io(part, e))?;
    let offset = at - start;
    if !unchecked && in_whole_pair(offset, end - start + 1, data.len() as u64) {
        // Leaf 2k's blocks are read back and hashed with leaf 2k+1's at the same offset
        // (written a leaf ago, still in cache): the two hashes' rounds interleave.
        if (offset / CHUNK_SIZE) % 2 == 0 {
            return Ok(());
        }
        if back.len() < data.len() {
            back.resize(data.len(), 0);
        }
        let first = &mut back[..data.len()];
        file.read_exact_at(first, at - CHUNK_SIZE)
            .map_err(|e| Error::io(part, e))?;
        file.read_exact_at(data, at)
            .map_err(|e| Error::io(part, e))?;
        hasher.update_pair(first, data);
        return Ok(());
    }
    if !unchecked {
        file.read_exact_at(data, at)
            .map_err(|e| Error::io(part, e))?;
        hasher.update(data);
        return Ok(());
    }
    if back.len() < data.len() {
        back.resize(data.len(), 0);
    }
    let back = &mut back[..data.len()];
    file.read_exact_at(back, at)
        .map_err(|e| Error::io(part, e))?;
    if back != &data[..] {
        return Err(Error::Mismatch {
            what: format!(
                "{}: bytes {at}-{} read back from disk",
                part.display(),
                at + data.len() as u64 - 1
            ),
            expected: format!("the {} bytes just written", data.len()),
            actual: "different bytes".into(),
        });
    }
    hasher.update(back);
    Ok(())
}

/// Reads until `block` is full; on a short or broken body, returns the bytes read and
/// what happened ("ended", "broke off: ...").
pub(super) fn fill_block(
    r: &mut impl Read,
    block: &mut [u8],
) -> std::result::Result<usize, (usize, String)> {
    let mut filled = 0;
    while filled < block.len() {
        match r.read(&mut block[filled..]) {
            Ok(0) => return Err((filled, "ended".into())),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((filled, format!("broke off: {e}"))),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_leaf_pairs_tiled_by_the_block_are_hashed_side_by_side() {
        const MIB: u64 = CHUNK_SIZE;
        let block = 128 << 10;
        // A chunk of 5 MiB + 3: leaves 0-1 and 2-3 are whole pairs, leaf 4 and the tail not.
        let len = 5 * MIB + 3;
        for (offset, want) in [
            (0, true),
            (MIB - block, true),
            (MIB, true),
            (3 * MIB + block, true),
        ] {
            assert_eq!(in_whole_pair(offset, len, block), want, "offset {offset}");
        }
        for offset in [4 * MIB, 5 * MIB] {
            assert!(!in_whole_pair(offset, len, block), "offset {offset}");
        }
        // A pair whose second leaf is short is not whole.
        assert!(!in_whole_pair(0, 2 * MIB - 1, block));
        assert!(in_whole_pair(MIB, 2 * MIB, block));
        // Blocks that do not tile a leaf, or are not whole SHA-256 blocks, go in order.
        assert!(!in_whole_pair(0, 4 * MIB, 100 << 10));
        assert!(!in_whole_pair(0, 4 * MIB, 96));
        assert!(!in_whole_pair(block / 2, 4 * MIB, block));
    }

    /// A write that lands elsewhere than asked is caught by the read-back: the hash
    /// covers the bytes read back (so it is not that of the bytes sent), and where no
    /// hash from Glacier would check it, the bytes are compared. pwrite(2) on Linux
    /// appends whatever the offset when the file was opened with O_APPEND.
    #[test]
    fn a_misdirected_write_fails_the_read_back() {
        let dir = std::env::temp_dir().join(format!("glacier-dl3-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("dir");
        let p = dir.join("part");
        fs::write(&p, b"old bytes here").expect("write");
        let mut back = Vec::new();
        let mut write = |f: &File, data: &[u8], unchecked: bool| {
            let mut data = data.to_vec();
            let mut hasher = ChunkHasher::new();
            let end = data.len() as u64 - 1;
            let r = write_checked(
                f,
                &p,
                Arrived {
                    data: &mut data,
                    at: 0,
                    hasher: &mut hasher,
                    range: (0, end),
                    unchecked,
                },
                &mut back,
            );
            r.map(|()| hasher.finish())
        };
        let good = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .expect("open");
        for unchecked in [false, true] {
            let h = write(&good, b"new bytes", unchecked).expect("a write that lands");
            assert_eq!(h, treehash::tree_hash(b"new bytes"));
        }
        let appending = fs::OpenOptions::new()
            .read(true)
            .append(true)
            .open(&p)
            .expect("open");
        let h = write(&appending, b"XXX bytes", false).expect("no compare");
        assert_ne!(
            h,
            treehash::tree_hash(b"XXX bytes"),
            "hashed what the file holds"
        );
        let err =
            write(&appending, b"XXX bytes", true).expect_err("it went to the end, not to offset 0");
        assert!(err.to_string().contains("read back"), "{err}");

        // A chunk of two whole leaves and a short one, in 128 KiB blocks: leaf 0's blocks
        // are read back only when leaf 1's arrive, and the hash is still that of what the
        // file holds, so the same misdirected writes are caught there too.
        let chunk: Vec<u8> = (0..2 * CHUNK_SIZE as usize + 5000)
            .map(|i| (i * 13 % 251) as u8)
            .collect();
        let write_chunk = |f: &File| {
            let mut hasher = ChunkHasher::new();
            let end = chunk.len() as u64 - 1;
            let mut back = Vec::new();
            for (i, piece) in chunk.chunks(BLOCK_SIZE as usize).enumerate() {
                let mut data = piece.to_vec();
                write_checked(
                    f,
                    &p,
                    Arrived {
                        data: &mut data,
                        at: i as u64 * BLOCK_SIZE,
                        hasher: &mut hasher,
                        range: (0, end),
                        unchecked: false,
                    },
                    &mut back,
                )
                .expect("write");
            }
            hasher.finish()
        };
        assert_eq!(write_chunk(&good), treehash::tree_hash(&chunk));
        assert_eq!(fs::read(&p).expect("read"), chunk);
        // Other bytes where the chunk should land; the appending handle puts it after them.
        fs::write(&p, vec![7u8; chunk.len()]).expect("overwrite");
        assert_ne!(
            write_chunk(&appending),
            treehash::tree_hash(&chunk),
            "hashed what the file holds"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    /// A socket hands over a few KiB per read; the file must see whole blocks.
    #[test]
    fn socket_reads_are_gathered_into_whole_blocks() {
        struct Trickle(Vec<u8>, usize);
        impl Read for Trickle {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(3000).min(self.0.len() - self.1);
                buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
                self.1 += n;
                Ok(n)
            }
        }
        let data: Vec<u8> = (0..BLOCK_SIZE as usize + 5000).map(|i| i as u8).collect();
        let mut r = Trickle(data.clone(), 0);
        let mut block = vec![0u8; BLOCK_SIZE as usize];
        assert_eq!(fill_block(&mut r, &mut block), Ok(BLOCK_SIZE as usize));
        assert_eq!(block[..], data[..BLOCK_SIZE as usize]);
        let (n, why) = fill_block(&mut r, &mut block[..6000]).expect_err("short");
        assert_eq!((n, why.as_str()), (5000, "ended"));
    }
}
