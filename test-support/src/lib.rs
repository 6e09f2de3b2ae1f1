//! test-support (being written).
