//! The report as JUnit XML, the format CI systems (GitLab, Jenkins, GitHub test reporters) read:
//! one `<testsuite>` per run, one `<testcase>` per case (`classname` = `conformance.<area>`),
//! with a `<failure>` or `<skipped>` element carrying the reason.
//!
//! Written by hand: the format is a dozen elements and attributes, and the only subtlety is
//! escaping (reasons quote provider answers, which may hold any byte). A crate such as
//! `quick-junit` would bring an XML writer and several dependencies for the same output.

use std::fmt::Write as _;

use crate::runner::{Report, Status};

/// `report` as a JUnit XML document; `suite` names the `<testsuite>` (e.g. the provider's URL).
pub fn to_junit(report: &Report, suite: &str) -> String {
    let total_ms: u64 = report.cases.iter().map(|c| c.duration_ms).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let counts = format!(
        "tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\"",
        report.cases.len(),
        report.failed,
        report.skipped,
        seconds(total_ms)
    );
    let _ = writeln!(xml, "<testsuites name=\"faas-conformance\" {counts}>");
    let _ = writeln!(xml, "  <testsuite name=\"{}\" {counts}>", escape(suite));
    for case in &report.cases {
        let _ = write!(
            xml,
            "    <testcase name=\"{}\" classname=\"conformance.{}\" time=\"{}\"",
            escape(&case.name),
            escape(&case.area),
            seconds(case.duration_ms)
        );
        let element = match case.status {
            Status::Pass => {
                xml.push_str("/>\n");
                continue;
            }
            Status::Fail => "failure",
            Status::Skip => "skipped",
        };
        let reason = escape(&case.reason);
        let _ = writeln!(
            xml,
            ">\n      <{element} message=\"{reason}\">{reason}</{element}>\n    </testcase>"
        );
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// Milliseconds as JUnit's decimal seconds.
fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// `text` escaped for an XML 1.0 attribute or text node. Characters XML 1.0 cannot hold at all
/// (control characters other than tab, newline and carriage return, U+FFFE, U+FFFF) become
/// U+FFFD; whitespace that attribute normalisation would fold is written as a reference.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::CaseReport;

    #[test]
    fn escapes_markup_and_invalid_characters() {
        assert_eq!(
            escape("a<b>&\"c\"'d'\n\t\u{1}\u{FFFF}é"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;&#10;&#9;\u{FFFD}\u{FFFD}é"
        );
        assert_eq!(seconds(1234), "1.234");
        assert_eq!(seconds(5), "0.005");
    }

    #[test]
    fn one_testcase_per_case() {
        let case = |name: &str, status, reason: &str| CaseReport {
            name: name.into(),
            area: "functions".into(),
            status,
            gates: Vec::new(),
            reason: reason.into(),
            duration_ms: 1500,
        };
        let report = Report::new(vec![
            case("a", Status::Pass, ""),
            case("b", Status::Fail, "expected 200, got 500"),
            case("c", Status::Skip, "needs secrets"),
        ]);
        let xml = to_junit(&report, "http://x");
        assert_eq!(xml.matches("<testcase ").count(), 3, "{xml}");
        assert!(
            xml.contains(
                "<testcase name=\"a\" classname=\"conformance.functions\" time=\"1.500\"/>"
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"expected 200, got 500\">"),
            "{xml}"
        );
        assert!(xml.contains("<skipped message=\"needs secrets\">"), "{xml}");
        assert!(
            xml.contains("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\" time=\"4.500\""),
            "{xml}"
        );
    }
}
