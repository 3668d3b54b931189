//! Which archives a run covers: globs on resolved names, creation-date bounds, and shards.
//!
//! Pure and deterministic: the same inventory and options select the same archives on any
//! machine, which is what lets N machines split a vault with no coordinator.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{Error, Result, Setting};

/// A glob on `/`-separated names: `*` and `?` stay within a component, `**` crosses
/// components (`**/` also matches no directory at all), `[abc]`, `[a-z]`, `[!a]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    text: String,
    tokens: Vec<Tok>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Any,
    Star,
    /// `**`, swallowing a following `/`.
    DoubleStar,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl std::str::FromStr for Glob {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Glob, String> {
        let chars: Vec<char> = s.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '*' if chars.get(i + 1) == Some(&'*') => {
                    i += 2;
                    if chars.get(i) == Some(&'/') {
                        i += 1;
                    }
                    tokens.push(Tok::DoubleStar);
                    continue;
                }
                '*' => tokens.push(Tok::Star),
                '?' => tokens.push(Tok::Any),
                '[' => {
                    let mut j = i + 1;
                    let negated = matches!(chars.get(j), Some('!' | '^'));
                    if negated {
                        j += 1;
                    }
                    let mut ranges = Vec::new();
                    let mut first = true;
                    loop {
                        let Some(&c) = chars.get(j) else {
                            return Err("unclosed '['".into());
                        };
                        if c == ']' && !first {
                            break;
                        }
                        first = false;
                        if chars.get(j + 1) == Some(&'-')
                            && chars.get(j + 2).is_some_and(|&e| e != ']')
                        {
                            let e = chars[j + 2];
                            if e < c {
                                return Err(format!("bad range '{c}-{e}'"));
                            }
                            ranges.push((c, e));
                            j += 3;
                        } else {
                            ranges.push((c, c));
                            j += 1;
                        }
                    }
                    tokens.push(Tok::Class { negated, ranges });
                    i = j;
                }
                '\\' if i + 1 < chars.len() => {
                    i += 1;
                    tokens.push(Tok::Lit(chars[i]));
                }
                c => tokens.push(Tok::Lit(c)),
            }
            i += 1;
        }
        Ok(Glob {
            text: s.to_string(),
            tokens,
        })
    }
}

impl std::fmt::Display for Glob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Glob {
    /// Whether the whole of `name` matches. Dynamic programming over (token, char), so
    /// hostile patterns cost O(pattern × name), never exponential time.
    pub fn matches(&self, name: &str) -> bool {
        let s: Vec<char> = name.chars().collect();
        let n = s.len();
        // can[j]: the tokens so far can match exactly s[..j].
        let mut can = vec![false; n + 1];
        can[0] = true;
        for t in &self.tokens {
            let mut next = vec![false; n + 1];
            match t {
                Tok::Star | Tok::DoubleStar => {
                    let crosses = matches!(t, Tok::DoubleStar);
                    let mut on = false;
                    for j in 0..=n {
                        if can[j] {
                            on = true;
                        }
                        next[j] = on;
                        if j < n && s[j] == '/' && !crosses {
                            on = false;
                        }
                    }
                }
                _ => {
                    for j in 0..n {
                        if can[j] && single(t, s[j]) {
                            next[j + 1] = true;
                        }
                    }
                }
            }
            can = next;
        }
        can[n]
    }
}

fn single(t: &Tok, c: char) -> bool {
    match t {
        Tok::Lit(l) => *l == c,
        Tok::Any => c != '/',
        Tok::Class { negated, ranges } => {
            c != '/' && (ranges.iter().any(|&(a, b)| a <= c && c <= b) != *negated)
        }
        Tok::Star | Tok::DoubleStar => false,
    }
}

/// `--shard K/N`: this run's share of the vault, K from 1 to N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based index.
    pub k: u64,
    /// Number of shards.
    pub n: u64,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Shard, String> {
        let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 2/5")?;
        let k: u64 = k.trim().parse().map_err(|_| "K is not a number")?;
        let n: u64 = n.trim().parse().map_err(|_| "N is not a number")?;
        if n == 0 || k == 0 || k > n {
            return Err(format!("K must be between 1 and N (got {k}/{n})"));
        }
        Ok(Shard { k, n })
    }
}

/// The environment variables `--shard auto/N` takes its index from, in this order:
/// Kubernetes Indexed Jobs and AWS Batch array jobs. Both are 0-based.
pub const SHARD_INDEX_VARS: [&str; 2] = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"];

impl Shard {
    /// Parses `K/N`, or `auto/N` with the 0-based index `index` gives for a name of
    /// [`SHARD_INDEX_VARS`] (the CLI reads the environment; this stays pure), so a pod
    /// spec or job definition passes its index with no shell arithmetic.
    pub fn parse_with_index(
        s: &str,
        index: &dyn Fn(&str) -> Option<String>,
    ) -> std::result::Result<Shard, String> {
        let Some(n) = s.trim().strip_prefix("auto/") else {
            return s.parse();
        };
        let (var, v) = SHARD_INDEX_VARS
            .iter()
            .find_map(|var| index(var).map(|v| (var, v)))
            .ok_or_else(|| {
                format!(
                    "auto needs {} or {} set (the 0-based index of Kubernetes Indexed Jobs and AWS Batch array jobs)",
                    SHARD_INDEX_VARS[0], SHARD_INDEX_VARS[1]
                )
            })?;
        let i: u64 = v
            .trim()
            .parse()
            .map_err(|_| format!("{var}='{v}' is not a whole number"))?;
        let n: u64 = n.trim().parse().map_err(|_| "N is not a number")?;
        if n == 0 {
            return Err("N must be at least 1".into());
        }
        if i >= n {
            return Err(format!(
                "{var}={i} is not an index of {n} shards (0 to {})",
                n.saturating_sub(1)
            ));
        }
        Ok(Shard { k: i + 1, n })
    }

    /// The shard (1..=n) of an archive: SHA-256 of its ID, first 8 bytes big-endian, mod
    /// N. Stable across runs, machines and versions: never change it.
    pub fn of(archive_id: &str, n: u64) -> u64 {
        let d = Sha256::digest(archive_id.as_bytes());
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        u64::from_be_bytes(b) % n + 1
    }

    /// Whether the archive belongs to this shard.
    pub fn contains(&self, archive_id: &str) -> bool {
        Shard::of(archive_id, self.n) == self.k
    }
}

/// A date given on the command line: `YYYY-MM-DD` (midnight UTC) or RFC 3339.
pub fn parse_date(s: &str) -> std::result::Result<OffsetDateTime, String> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let full = format!("{s}T00:00:00Z");
    OffsetDateTime::parse(&full, &Rfc3339)
        .map_err(|_| "expected YYYY-MM-DD or an RFC 3339 time like 2020-01-31T12:00:00Z".into())
}

/// What a run covers.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--include`: if any, a name must match one.
    pub include: Vec<Glob>,
    /// `--exclude`: a name matching one is left out.
    pub exclude: Vec<Glob>,
    /// `--created-after`: creation at or after this time.
    pub created_after: Option<OffsetDateTime>,
    /// `--created-before`: creation strictly before this time.
    pub created_before: Option<OffsetDateTime>,
    /// `--shard`.
    pub shard: Option<Shard>,
    /// Why `--shard auto/N` could not take its index from the environment when the
    /// command line was read. Kept, not raised, so reading a command line never depends
    /// on the environment (the docs' commands parse anywhere); [`Selection::check`]
    /// raises it before a run sends anything, and [`Selection::admits`] refuses to run
    /// with it.
    pub shard_unresolved: Option<String>,
}

impl Selection {
    /// A usage error (exit 2) when `--shard auto/N` found no index; else nothing. The
    /// first thing a run does, so nothing is sent.
    pub fn check(&self) -> Result<()> {
        match &self.shard_unresolved {
            Some(why) => Err(Error::Usage(format!("{}: {why}", Setting::Shard))),
            None => Ok(()),
        }
    }

    /// Whether an archive with this resolved `name` is in scope. An unparsable creation
    /// date with a date bound given is an error: silently dropping or keeping it would
    /// both be wrong. An absent one (empty) is outside any date bound.
    pub fn admits(&self, archive_id: &str, name: &str, creation_date: &str) -> Result<bool> {
        self.check()?;
        if let Some(s) = &self.shard {
            if !s.contains(archive_id) {
                return Ok(false);
            }
        }
        if !self.include.is_empty() && !self.include.iter().any(|g| g.matches(name)) {
            return Ok(false);
        }
        if self.exclude.iter().any(|g| g.matches(name)) {
            return Ok(false);
        }
        if self.created_after.is_some() || self.created_before.is_some() {
            // An unknown date (the inventory had none: the member is optional) cannot be
            // shown to be in the range, so a date-bounded selection leaves it out.
            if creation_date.is_empty() {
                return Ok(false);
            }
            let t = OffsetDateTime::parse(creation_date, &Rfc3339).map_err(|_| {
                Error::Input(format!(
                    "archive {archive_id}: creation date '{creation_date}' is not RFC 3339; cannot apply {}",
                    Setting::CreatedRange
                ))
            })?;
            if self.created_after.is_some_and(|a| t < a) {
                return Ok(false);
            }
            if self.created_before.is_some_and(|b| t >= b) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shard_auto_takes_a_zero_based_index_from_the_environment() {
        use super::Shard;
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let k8s = env(&[("JOB_COMPLETION_INDEX", "0")]);
        assert_eq!(
            Shard::parse_with_index("auto/3", &k8s),
            Ok(Shard { k: 1, n: 3 })
        );
        let batch = env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "2")]);
        assert_eq!(
            Shard::parse_with_index("auto/3", &batch),
            Ok(Shard { k: 3, n: 3 })
        );
        // K/N still parses without looking at the environment.
        assert_eq!(
            Shard::parse_with_index("2/3", &env(&[])),
            Ok(Shard { k: 2, n: 3 })
        );
        let e = Shard::parse_with_index("auto/3", &env(&[])).expect_err("no index");
        assert!(e.contains("JOB_COMPLETION_INDEX"), "{e}");
        let e = Shard::parse_with_index("auto/3", &env(&[("JOB_COMPLETION_INDEX", "3")]))
            .expect_err("out of range");
        assert!(
            e.contains("JOB_COMPLETION_INDEX=3 is not an index of 3 shards"),
            "{e}"
        );
        let e = Shard::parse_with_index("auto/3", &env(&[("JOB_COMPLETION_INDEX", "x")]))
            .expect_err("not a number");
        assert!(e.contains("'x' is not a whole number"), "{e}");
        assert!(Shard::parse_with_index("auto/0", &k8s).is_err());
    }

    use super::*;

    fn g(s: &str) -> Glob {
        s.parse().expect("glob")
    }

    #[test]
    fn glob_semantics() {
        assert!(g("*.jpg").matches("a.jpg"));
        assert!(!g("*.jpg").matches("d/a.jpg"));
        assert!(g("**/*.jpg").matches("a.jpg"));
        assert!(g("**/*.jpg").matches("d/e/a.jpg"));
        assert!(g("photos/**").matches("photos/2012/x"));
        assert!(!g("photos/**").matches("video/x"));
        assert!(g("a?c").matches("abc"));
        assert!(!g("a?c").matches("a/c"));
        assert!(g("[a-c]x").matches("bx"));
        assert!(!g("[!a-c]x").matches("bx"));
        assert!(g("[!a-c]x").matches("dx"));
        assert!(g("[]]").matches("]"));
        assert!(g("\\*").matches("*"));
        assert!(!g("\\*").matches("a"));
        assert!(g("").matches(""));
        assert!("[abc".parse::<Glob>().is_err());
        assert!("[z-a]".parse::<Glob>().is_err());
        // Many stars against a long non-match stays fast (no backtracking blow-up).
        let p = g(&"*a".repeat(50));
        assert!(!p.matches(&"a".repeat(49)));
    }

    #[test]
    fn shards_are_stable_and_partition() {
        // Pinned: changing the hash would move archives between shards of running jobs.
        assert_eq!(Shard::of("archive-1", 3), Shard::of("archive-1", 3));
        let ids: Vec<String> = (0..300).map(|i| format!("id{i}")).collect();
        let shards: Vec<Shard> = (1..=3).map(|k| Shard { k, n: 3 }).collect();
        for id in &ids {
            assert_eq!(shards.iter().filter(|s| s.contains(id)).count(), 1);
        }
        let sizes: Vec<usize> = shards
            .iter()
            .map(|s| ids.iter().filter(|id| s.contains(id)).count())
            .collect();
        assert!(sizes.iter().all(|&n| n > 60), "{sizes:?}");
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { k: 2, n: 3 }));
    }

    #[test]
    fn selection_combines_filters() {
        let sel = Selection {
            include: vec![g("**/*.txt")],
            exclude: vec![g("tmp/**")],
            created_after: Some(parse_date("2020-01-01").expect("date")),
            created_before: Some(parse_date("2021-01-01T00:00:00Z").expect("date")),
            shard: None,
            shard_unresolved: None,
        };
        let ok = |n: &str, d: &str| sel.admits("id", n, d).expect("admits");
        assert!(ok("a/b.txt", "2020-06-01T00:00:00.000Z"));
        assert!(!ok("a/b.jpg", "2020-06-01T00:00:00Z"));
        assert!(!ok("tmp/b.txt", "2020-06-01T00:00:00Z"));
        assert!(ok("b.txt", "2020-01-01T00:00:00Z"));
        assert!(!ok("b.txt", "2021-01-01T00:00:00Z"));
        assert!(!ok("b.txt", "2019-12-31T23:59:59Z"));
        assert!(sel.admits("id", "b.txt", "yesterday").is_err());
        assert!(!ok("b.txt", ""), "unknown date: not shown to be in range");
        assert!(
            Selection::default()
                .admits("id", "b.txt", "")
                .expect("admits")
        );
        assert!(parse_date("2020-13-01").is_err());
    }
}
