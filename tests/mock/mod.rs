//! The mock Glacier server (being written).
