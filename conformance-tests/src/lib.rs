//! conformance-tests (being written).
