//! AWS Signature Version 4, pure: strings in, strings out (being written).
