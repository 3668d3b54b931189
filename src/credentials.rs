//! The credential chain (being written).
