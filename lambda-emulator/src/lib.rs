//! lambda-emulator (being built).
