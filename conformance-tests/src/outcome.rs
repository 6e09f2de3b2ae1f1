//! What a case returns: `Ok(())` (pass), a failure, or a skip, plus the assertion macros.

use faas_provider::ProviderError;

/// Why a case did not pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The provider broke the contract; the message says how.
    #[error("{0}")]
    Failed(String),
    /// The case does not apply to this target (a capability is off, no raw HTTP...).
    #[error("skipped: {0}")]
    Skipped(String),
}

impl Failure {
    /// A failure with `message`.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }

    /// A skip with `reason`.
    pub fn skipped(reason: impl Into<String>) -> Self {
        Self::Skipped(reason.into())
    }

    /// True for [`Failure::Skipped`].
    pub fn is_skip(&self) -> bool {
        matches!(self, Self::Skipped(_))
    }
}

/// The result of one case: `Ok(())` is a pass.
pub type Outcome = Result<(), Failure>;

/// Adds what was being done to a provider error, turning it into a [`Failure`].
pub trait Context<T> {
    /// `Failed("<what>: <error>")` on error.
    fn context(self, what: impl std::fmt::Display) -> Result<T, Failure>;
}

impl<T> Context<T> for Result<T, ProviderError> {
    fn context(self, what: impl std::fmt::Display) -> Result<T, Failure> {
        self.map_err(|e| Failure::Failed(format!("{what}: unexpected error: {e} ({e:?})")))
    }
}

impl<T> Context<T> for Result<T, reqwest::Error> {
    fn context(self, what: impl std::fmt::Display) -> Result<T, Failure> {
        self.map_err(|e| Failure::Failed(format!("{what}: HTTP request failed: {e}")))
    }
}

impl<T> Context<T> for Result<T, serde_json::Error> {
    fn context(self, what: impl std::fmt::Display) -> Result<T, Failure> {
        self.map_err(|e| Failure::Failed(format!("{what}: invalid JSON: {e}")))
    }
}

/// Fails the case with a formatted message.
#[macro_export]
macro_rules! fail {
    ($($arg:tt)+) => {
        return ::core::result::Result::Err($crate::Failure::Failed(format!($($arg)+)))
    };
}

/// Skips the case with a formatted reason.
#[macro_export]
macro_rules! skip {
    ($($arg:tt)+) => {
        return ::core::result::Result::Err($crate::Failure::Skipped(format!($($arg)+)))
    };
}

/// Fails the case unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            $crate::fail!($($arg)+);
        }
    };
}

/// Fails the case unless `left == right`, printing both.
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($arg:tt)+) => {
        match (&$left, &$right) {
            (left, right) => {
                if !(*left == *right) {
                    $crate::fail!("{}: expected {:?}, got {:?}", format!($($arg)+), right, left);
                }
            }
        }
    };
}
