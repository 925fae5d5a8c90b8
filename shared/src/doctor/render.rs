//! The doctor's report as text for a terminal: one line per passed rule, and for each rule that did
//! not pass its requirement, source, what was seen and the fix; a summary line last.

use std::fmt::Write;

use super::{DoctorReport, Verdict};

fn label(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "PASS",
        Verdict::Info => "INFO",
        Verdict::Warning => "WARN",
        Verdict::Failure => "FAIL",
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// The summary line, e.g. "1 failure, 2 warnings, 14 passed, 1 note".
pub fn summary_line(report: &DoctorReport) -> String {
    let s = report.summary;
    format!(
        "{}, {}, {} passed, {}",
        plural(s.failures, "failure", "failures"),
        plural(s.warnings, "warning", "warnings"),
        s.passed,
        plural(s.info, "note", "notes"),
    )
}

/// The whole report.
pub fn text(report: &DoctorReport) -> String {
    let mut out = format!("Authorization audit of {}\n\n", report.server);
    for finding in &report.findings {
        let verdict = label(finding.verdict);
        if finding.verdict == Verdict::Pass {
            let _ = writeln!(out, "{verdict}  {}: {}", finding.rule, finding.observed);
            continue;
        }
        let _ = writeln!(
            out,
            "{verdict}  {} ({} · {})",
            finding.rule,
            finding.level.as_str(),
            finding.source
        );
        let _ = writeln!(out, "      rule: {}", finding.statement);
        let _ = writeln!(out, "      seen: {}", finding.observed);
        if let Some(fix) = &finding.fix {
            let _ = writeln!(out, "      fix:  {fix}");
        }
    }
    let _ = writeln!(out, "\n{}", summary_line(report));
    out
}
