//! Packing several files or directories into one `.tar.xz` stream (being written).
