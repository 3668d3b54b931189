//! Runs the mock Glacier server on its own (being written).
#[allow(dead_code)]
#[path = "mod.rs"]
mod mock;
fn main() {}
