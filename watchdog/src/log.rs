//! Log lines in Go's `log` format (`2006/01/02 15:04:05 message`, UTC) on stderr, like both
//! upstream watchdogs. The OpenFaaS certifier greps these lines (`Forking fprocess.`,
//! `Wrote N Bytes`) from the function's logs.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// Write one log line to stderr.
pub(crate) fn line(message: std::fmt::Arguments<'_>) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let text = format!("{} {}\n", timestamp(secs), message);
    // One write call so concurrent lines do not interleave mid-line.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

macro_rules! log {
    ($($arg:tt)*) => { $crate::log::line(format_args!($($arg)*)) };
}
pub(crate) use log;

/// `YYYY/MM/DD HH:MM:SS` for seconds since the epoch (UTC).
fn timestamp(secs: u64) -> String {
    let secs = i64::try_from(secs).unwrap_or(0);
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y/%m/%d %H:%M:%S")
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps() {
        assert_eq!(super::timestamp(0), "1970/01/01 00:00:00");
        assert_eq!(super::timestamp(951_782_400), "2000/02/29 00:00:00");
        assert_eq!(super::timestamp(1_767_225_599), "2025/12/31 23:59:59");
    }
}
