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

#[cfg(test)]
mod tests {
    use super::*;

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
