//! lambda-shim (being built).
