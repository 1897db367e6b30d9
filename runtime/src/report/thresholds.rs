//! `--threshold [SCOPE:] METRIC OP VALUE`: pass/fail criteria on the final
//! summary, e.g. `p95<300ms`, `fail_ratio<0.01`, `"GET /login: p99<500ms"`.

use std::fmt;

use crate::stats::{RequestRow, Summary};

/// A parsed threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The expression as given, for reports.
    text: String,
    /// `(type, name)` of one row, or `None` for the Aggregated row.
    scope: Option<(String, String)>,
    metric: Metric,
    op: Op,
    /// In the metric's unit: milliseconds, a ratio, or requests per second.
    value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Metric {
    Percentile(&'static str),
    Max,
    Avg,
    FailRatio,
    Rps,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
}

/// How one threshold fared.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Verdict {
    /// The threshold as given, e.g. `p95<300ms`.
    #[serde(default)]
    pub threshold: String,
    pub held: bool,
    /// e.g. `p95<300ms: p95 = 12.3 ms`.
    pub line: String,
}

impl Threshold {
    /// Parses `[TYPE NAME:] METRIC OP VALUE`; the error points at the bad part.
    pub fn parse(text: &str) -> Result<Threshold, String> {
        let (scope, condition) = match text.rsplit_once(':') {
            Some((scope, condition)) if parse_condition(condition).is_ok() => {
                let scope = scope.trim();
                let (kind, name) = scope.split_once(char::is_whitespace).ok_or_else(|| {
                    format!("`{scope}` is not a scope: give TYPE NAME, e.g. `GET /login`")
                })?;
                (Some((kind.to_owned(), name.trim().to_owned())), condition)
            }
            _ => (None, text),
        };
        let (metric, op, value) = parse_condition(condition)?;
        Ok(Threshold { text: text.trim().to_owned(), scope, metric, op, value })
    }

    /// Checks the threshold against a finished run.
    pub fn check(&self, summary: &Summary) -> Verdict {
        let row = match &self.scope {
            None => Some(&summary.aggregated),
            Some((kind, name)) => {
                summary.requests.iter().find(|row| &row.kind == kind && &row.name == name)
            }
        };
        let Some(row) = row else {
            return Verdict {
                threshold: self.text.clone(),
                held: false,
                line: format!("{}: no requests in that scope", self.text),
            };
        };
        let actual = self.metric.of(row);
        let held = match self.op {
            Op::Less => actual < self.value,
            Op::LessOrEqual => actual <= self.value,
            Op::Greater => actual > self.value,
            Op::GreaterOrEqual => actual >= self.value,
            Op::Equal => actual == self.value,
        };
        Verdict {
            threshold: self.text.clone(),
            held,
            line: format!("{}: {} = {}", self.text, self.metric, self.metric.show(actual)),
        }
    }
}

fn parse_condition(text: &str) -> Result<(Metric, Op, f64), String> {
    let text = text.trim();
    let at = text
        .find(['<', '>', '='])
        .ok_or_else(|| format!("no comparison in `{text}`: use <, <=, >, >= or =="))?;
    let (metric_text, rest) = text.split_at(at);
    let metric = match metric_text.trim() {
        "p50" => Metric::Percentile("p50"),
        "p90" => Metric::Percentile("p90"),
        "p95" => Metric::Percentile("p95"),
        "p99" => Metric::Percentile("p99"),
        "max" => Metric::Max,
        "avg" => Metric::Avg,
        "fail_ratio" => Metric::FailRatio,
        "rps" => Metric::Rps,
        other => {
            return Err(format!(
                "unknown metric `{other}`: use p50 p90 p95 p99 max avg fail_ratio rps"
            ))
        }
    };
    let (op, value_text) = [
        ("<=", Op::LessOrEqual),
        (">=", Op::GreaterOrEqual),
        ("==", Op::Equal),
        ("<", Op::Less),
        (">", Op::Greater),
    ]
    .into_iter()
    .find_map(|(symbol, op)| rest.strip_prefix(symbol).map(|value| (op, value.trim())))
    .ok_or_else(|| format!("bad comparison at `{rest}`: use <, <=, >, >= or =="))?;
    let value = metric.parse_value(value_text)?;
    Ok((metric, op, value))
}

impl Metric {
    fn of(self, row: &RequestRow) -> f64 {
        match self {
            Metric::Percentile("p50") => row.times.p50_ms,
            Metric::Percentile("p90") => row.times.p90_ms,
            Metric::Percentile("p95") => row.times.p95_ms,
            Metric::Percentile(_) => row.times.p99_ms,
            Metric::Max => row.times.max_ms,
            Metric::Avg => row.times.avg_ms,
            Metric::FailRatio if row.count == 0 => 0.0,
            Metric::FailRatio => row.failures as f64 / row.count as f64,
            Metric::Rps => row.rps,
        }
    }

    /// A duration (`us`, `ms`, `s`) in ms for time metrics; a plain number
    /// (or a percentage for `fail_ratio`) otherwise.
    fn parse_value(self, text: &str) -> Result<f64, String> {
        let bad = || format!("bad value `{text}` for {self}");
        let number =
            |digits: &str| digits.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
        match self {
            Metric::FailRatio => match text.strip_suffix('%') {
                Some(percent) => number(percent).map(|p| p / 100.0).ok_or_else(bad),
                None => number(text).ok_or_else(bad),
            },
            Metric::Rps => number(text).ok_or_else(bad),
            _ => {
                let (digits, scale) = if let Some(us) = text.strip_suffix("us") {
                    (us, 0.001)
                } else if let Some(ms) = text.strip_suffix("ms") {
                    (ms, 1.0)
                } else if let Some(s) = text.strip_suffix('s') {
                    (s, 1000.0)
                } else {
                    return Err(format!("`{text}` needs a unit for {self}: us, ms or s"));
                };
                number(digits).map(|value| value * scale).ok_or_else(bad)
            }
        }
    }

    fn show(self, value: f64) -> String {
        match self {
            Metric::FailRatio => format!("{value:.4}"),
            Metric::Rps => format!("{value:.1}/s"),
            _ => format!("{value:.2} ms"),
        }
    }
}

impl fmt::Display for Threshold {
    /// The expression as given.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Metric::Percentile(name) => name,
            Metric::Max => "max",
            Metric::Avg => "avg",
            Metric::FailRatio => "fail_ratio",
            Metric::Rps => "rps",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_parse_with_and_without_scope() {
        let plain = Threshold::parse("p95<300ms").unwrap();
        assert_eq!(
            (plain.scope, plain.metric, plain.op, plain.value),
            (None, Metric::Percentile("p95"), Op::Less, 300.0)
        );
        let scoped = Threshold::parse("GET /login: p99 <= 0.5s").unwrap();
        assert_eq!(scoped.scope, Some(("GET".into(), "/login".into())));
        assert_eq!((scoped.op, scoped.value), (Op::LessOrEqual, 500.0));
        let url = Threshold::parse("GET http://h:1/x: max<250us").unwrap();
        assert_eq!(url.scope, Some(("GET".into(), "http://h:1/x".into())));
        assert_eq!(url.value, 0.25);
        assert_eq!(Threshold::parse("fail_ratio<1%").unwrap().value, 0.01);
        assert_eq!(Threshold::parse("rps>=100").unwrap().op, Op::GreaterOrEqual);
    }

    #[test]
    fn bad_expressions_point_at_the_bad_part() {
        for (text, part) in [
            ("p95<<300ms", "`<300ms`"),
            ("p42<1s", "unknown metric `p42`"),
            ("p95<300", "needs a unit"),
            ("p95 300ms", "no comparison"),
            ("fail_ratio<lots", "bad value `lots`"),
            ("/login: p99<1s", "not a scope"),
        ] {
            let error = Threshold::parse(text).unwrap_err();
            assert!(error.contains(part), "{text}: {error}");
        }
    }
}
