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
                if s.is_empty()
                    || s.len() > 1024
                    || !s
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
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

id_type!(ArchiveId, "archive ID");
id_type!(UploadId, "upload ID");
id_type!(JobId, "job ID");
