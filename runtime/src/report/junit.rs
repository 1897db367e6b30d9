//! `--junit PATH`: the verdict as a JUnit XML report, which every CI shows
//! as tests: one test case per threshold, failed with what was observed,
//! and one that the run was whole, failed when a split test lost a segment.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use quick_xml::escape::escape;

use crate::stats::Summary;

/// Writes the report of `summary` to `path`.
pub fn write(summary: &Summary, path: &Path) -> Result<()> {
    std::fs::write(path, render(summary))
        .with_context(|| format!("cannot write the JUnit report to {}", path.display()))
}

/// The report as text.
pub fn render(summary: &Summary) -> String {
    // (name, failure message if it failed)
    let mut cases: Vec<(String, Option<String>)> = summary
        .thresholds
        .iter()
        .map(|verdict| {
            let name =
                if verdict.threshold.is_empty() { &verdict.line } else { &verdict.threshold };
            (name.clone(), (!verdict.held).then(|| verdict.line.clone()))
        })
        .collect();
    let lost: Vec<String> = summary
        .lost_segments
        .iter()
        .map(|lost| format!("segment {}: {}", lost.segment, lost.reason))
        .collect();
    cases.push(("the run was whole".into(), (!lost.is_empty()).then(|| lost.join("; "))));
    let failures = cases.iter().filter(|(_, failure)| failure.is_some()).count();
    let (tests, time) = (cases.len(), summary.duration_s);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let counts = format!(
        "tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{time:.3}\""
    );
    let _ = writeln!(xml, "<testsuites name=\"wasmload\" {counts}>");
    let _ = writeln!(xml, "  <testsuite name=\"thresholds\" {counts}>");
    for (name, failure) in cases {
        let name = escape(name.as_str());
        let _ = write!(
            xml,
            "    <testcase classname=\"wasmload.thresholds\" name=\"{name}\" time=\"0\""
        );
        match failure {
            None => xml.push_str("/>\n"),
            Some(message) => {
                let message = escape(message.as_str());
                let _ = writeln!(
                    xml,
                    ">\n      <failure message=\"{message}\" type=\"threshold\">{message}</failure>\n    </testcase>"
                );
            }
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::thresholds::Verdict;
    use crate::stats::{LostSegment, Recorder};

    #[test]
    fn each_threshold_is_a_test_case_and_a_failed_one_says_what_was_seen() {
        let mut summary =
            Summary::new(&Recorder::new(10).snapshot(), 1, 0, std::time::Duration::from_secs(3))
                .unwrap();
        summary.thresholds = vec![
            Verdict {
                threshold: "p95<300ms".into(),
                held: true,
                line: "p95<300ms: p95 = 1 ms".into(),
            },
            Verdict {
                threshold: "fail_ratio<0.01".into(),
                held: false,
                line: "fail_ratio<0.01: fail_ratio = 0.5 & more".into(),
            },
        ];
        summary.lost_segments =
            vec![LostSegment { segment: "1/2".into(), reason: "sent nothing for 15 s".into() }];
        let xml = render(&summary);
        assert!(xml.contains(r#"<testsuites name="wasmload" tests="3" failures="2""#), "{xml}");
        assert!(xml.contains(r#"name="p95&lt;300ms" time="0"/>"#), "{xml}");
        assert!(
            xml.contains(r#"<failure message="fail_ratio&lt;0.01: fail_ratio = 0.5 &amp; more""#),
            "{xml}"
        );
        assert!(xml.contains("segment 1/2: sent nothing for 15 s"), "{xml}");
    }
}
