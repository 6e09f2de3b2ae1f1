//! The configuration surface: the variable names, the default directory, the two hooks, and the
//! rules a middleware name must follow.

use std::fmt;

use crate::error::MiddlewareError;

/// The function's variable listing the middlewares, comma-separated, in `before` order.
pub const LIST_ENV: &str = "SLSMIDDLEWARES";

/// The variable overriding [`DEFAULT_DIR`] (for tests and for images that keep their
/// middlewares elsewhere).
pub const DIR_ENV: &str = "SLSMIDDLEWARES_DIR";

/// Where the middleware executables are looked up (the Serverless Open Runtime's path).
pub const DEFAULT_DIR: &str = "/opt/middlewares";

/// How much of a failing hook's stderr is kept for the error (the first bytes).
pub const STDERR_LIMIT: usize = 4096;

/// Which side of the function a middleware runs on; its name is the hook's first argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hook {
    /// Before the function: stdin is the event, stdout the event the function gets.
    Before,
    /// After the function: stdin is the response, stdout the response the caller gets.
    After,
}

impl Hook {
    /// `"before"` or `"after"`: the argument the executable receives.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Before => "before",
            Hook::After => "after",
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Check one middleware name: not empty, no `/` (a name is a file of the directory, never a
/// path) and no `..`.
pub fn validate_name(name: &str) -> Result<(), MiddlewareError> {
    let reason = if name.is_empty() {
        "empty name"
    } else if name.contains('/') {
        "names must not contain '/'"
    } else if name.contains("..") {
        "names must not contain '..'"
    } else if name.chars().any(char::is_control) {
        "names must not contain control characters"
    } else {
        return Ok(());
    };
    Err(MiddlewareError::InvalidName {
        name: name.to_string(),
        reason,
    })
}

/// Parse a `SLSMIDDLEWARES` value: comma-separated names, spaces around them ignored. A blank
/// value is no middleware at all; an empty element (`a,,b`, a trailing comma) or an invalid
/// name is refused ([`validate_name`]).
pub fn parse_names(list: &str) -> Result<Vec<String>, MiddlewareError> {
    if list.trim().is_empty() {
        return Ok(Vec::new());
    }
    list.split(',')
        .map(|name| {
            let name = name.trim();
            validate_name(name).map(|()| name.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_refused_names() {
        assert_eq!(parse_names("").unwrap(), Vec::<String>::new());
        assert_eq!(parse_names("  ").unwrap(), Vec::<String>::new());
        assert_eq!(
            parse_names("auth, cloudevents ,header").unwrap(),
            ["auth", "cloudevents", "header"]
        );
        assert_eq!(parse_names("a.b-c_d").unwrap(), ["a.b-c_d"]);
        for bad in ["a,,b", "a,", "../x", "x/y", "/abs", "..", "a..b", "a\nb"] {
            let err = parse_names(bad).unwrap_err();
            assert!(
                matches!(err, MiddlewareError::InvalidName { .. }),
                "{bad:?}: {err}"
            );
            assert!(err.to_string().contains(LIST_ENV), "{err}");
        }
        assert_eq!(Hook::Before.to_string(), "before");
        assert_eq!(Hook::After.as_str(), "after");
    }
}
