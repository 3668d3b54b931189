//! Region, endpoint and profile configuration (being written).
