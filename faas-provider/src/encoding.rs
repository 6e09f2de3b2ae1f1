//! Percent-encoding (RFC 3986), through the `percent-encoding` crate.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// Every byte but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`): what a value must
/// have escaped to be one path segment (or one query key or value).
pub const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `value` with every byte but the unreserved characters escaped as `%XX` (uppercase hex).
pub fn percent_encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, NOT_UNRESERVED).to_string()
}

/// `text` with every valid `%XX` escape decoded; invalid escapes are kept as they are and bytes
/// that are not UTF-8 become U+FFFD.
pub fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreserved_characters_stay() {
        assert_eq!(percent_encode("aZ0-._~"), "aZ0-._~");
        assert_eq!(
            percent_encode("a b/c?d#e%f+g.h:é"),
            "a%20b%2Fc%3Fd%23e%25f%2Bg.h%3A%C3%A9"
        );
    }

    #[test]
    fn decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode("/a%2Fb%zz%4"), "/a/b%zz%4");
        assert_eq!(percent_decode("/some%20path/%C3%A9"), "/some path/é");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }
}
