//! provider-memory (being written).
