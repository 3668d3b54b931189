//! Newtypes for the IDs Glacier hands out, so an upload ID is never passed as a job ID.

use std::fmt;

use crate::error::{Error, Result};

macro_rules! id_type {
    ($name:ident, $what:literal) => {
        #[doc = concat!("A Glacier ", $what, ".")]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Checks and wraps a ", $what, " given by the user or by Glacier.")]
            pub fn new(s: impl Into<String>) -> Result<$name> {
                let s = s.into();
                if !well_formed(&s) {
                    return Err(Error::Usage(format!(
                        "'{s}' is not a valid {} (letters, digits, '-' and '_' only)",
                        $what
                    )));
                }
                Ok($name(s))
            }

            /// Wraps an ID Glacier sent (not checked: Glacier is the authority on its IDs).
            pub fn from_server(s: impl Into<String>) -> $name {
                $name(s.into())
            }

            #[doc = concat!("Checks a ", $what, " that enters from an answer: IDs end up in")]
            /// file names and paths, so one outside Glacier's alphabet (a hostile or
            /// broken endpoint sending `../x`) is refused where it arrives.
            pub fn from_server_checked(s: impl Into<String>) -> Result<$name> {
                let s = s.into();
                if !well_formed(&s) {
                    let shown: String = s.chars().take(80).collect();
                    return Err(Error::Failed(format!(
                        "the endpoint sent {shown:?} as a {}, which is not one (letters, digits, '-' and '_' only)",
                        $what
                    )));
                }
                Ok($name(s))
            }

            /// The ID as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Glacier's IDs are base64url text: 1 to 1,024 letters, digits, '-' and '_'.
fn well_formed(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 1024
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

id_type!(ArchiveId, "archive ID");
id_type!(UploadId, "upload ID");
id_type!(JobId, "job ID");

/// An archive or job description as Glacier accepts it: at most 1,024 printable ASCII
/// characters (API Reference, "Upload Archive": x-amz-archive-description; "Initiate
/// Job": Description). Checked once, where it is made; whoever holds one can send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    /// The longest description Glacier accepts, in characters (all ASCII, so bytes).
    pub const MAX_LEN: usize = 1024;

    /// Checks and wraps a description given by the user (or built from their input).
    pub fn new(s: impl Into<String>) -> Result<Description> {
        let s = s.into();
        if s.len() > Self::MAX_LEN {
            return Err(Error::Usage(format!(
                "a description is at most 1,024 characters (this one has {})",
                s.len()
            )));
        }
        if let Some(c) = s.chars().find(|c| !(' '..='~').contains(c)) {
            return Err(Error::Usage(format!(
                "a description is printable ASCII only (space to '~'), not {c:?}"
            )));
        }
        Ok(Description(s))
    }

    /// A description made from a file name: characters Glacier does not accept become
    /// '?', and it is cut at 1,024 characters. Never fails.
    pub fn from_name(name: &str) -> Description {
        Description(
            name.chars()
                .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
                .take(Self::MAX_LEN)
                .collect(),
        )
    }

    /// The description as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The description as an owned string (for a request body).
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::ops::Deref for Description {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_checked_once_where_made() {
        assert_eq!(
            Description::new("photos 2024").expect("ok").as_str(),
            "photos 2024"
        );
        assert!(Description::new("a".repeat(1024)).is_ok());
        let e = Description::new("a".repeat(1025)).expect_err("long");
        assert!(e.to_string().contains("1,024"), "{e}");
        let e = Description::new("tab\there").expect_err("tab");
        assert!(e.to_string().contains("printable ASCII"), "{e}");
        assert!(Description::new("é").is_err());
        assert_eq!(Description::from_name("café.txt").as_str(), "caf?.txt");
        assert_eq!(Description::from_name(&"é".repeat(2000)).len(), 1024);
    }

    #[test]
    fn an_id_from_an_answer_is_checked_where_it_enters() {
        let ok = "Ar7Q-x_9";
        assert_eq!(
            UploadId::from_server_checked(ok)
                .map(|i| i.to_string())
                .ok(),
            Some(ok.to_string())
        );
        for bad in ["../../etc/x", "", "a/b", "a.json", "a b", "\u{1b}[2J"] {
            let err = UploadId::from_server_checked(bad).expect_err(bad);
            assert!(matches!(err, Error::Failed(_)), "{bad}: {err}");
            assert!(JobId::from_server_checked(bad).is_err(), "{bad}");
        }
        assert!(JobId::from_server_checked("x".repeat(1025)).is_err());
    }
}
