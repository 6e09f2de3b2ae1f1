//! Platform errors of the emulator (as opposed to function errors, which are an
//! [`InvokeResult`](crate::InvokeResult)).

/// Why an invoke (or the emulator) failed as a platform error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The configuration is unusable.
    #[error("invalid emulator configuration: {0}")]
    InvalidConfig(String),
    /// The payload is over the limit.
    #[error(
        "Request must be smaller than {limit} bytes for the InvokeFunction operation ({size} bytes sent)"
    )]
    PayloadTooLarge {
        /// The payload size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The concurrency limit is reached.
    #[error("Rate Exceeded: {inflight} concurrent invocations, limit {limit}")]
    Throttled {
        /// The limit.
        limit: u32,
        /// In flight when refused.
        inflight: u32,
    },
    /// The runtime failed to initialise.
    #[error("the function failed to initialise: {error_type}: {message}")]
    InitFailed {
        /// e.g. `Runtime.InvalidEntrypoint`, `Runtime.ExitError`.
        error_type: String,
        /// What happened.
        message: String,
    },
    /// A process could not be started.
    #[error("cannot start {what}: {source}")]
    Spawn {
        /// What.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The Docker Engine refused.
    #[error("{what}: {source}")]
    Docker {
        /// What was being done.
        what: String,
        /// The engine error.
        #[source]
        source: bollard::errors::Error,
    },
    /// The zip cannot be extracted.
    #[error("invalid function zip: {0}")]
    Zip(String),
    /// The emulator is stopping.
    #[error("the emulator is stopping")]
    Stopped,
}
