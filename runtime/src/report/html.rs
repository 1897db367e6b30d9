//! `--html PATH`: one self-contained page (inline SVG charts, no network
//! assets) with RPS and failures, response-time percentiles and users over
//! time, and the stats and failures tables.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;
use quick_xml::escape::escape;

use crate::report::table::{metric_cells, METRIC_HEADER};
use crate::stats::{RequestRow, ResponseTimes, Summary};

/// Writes the page for `summary` to `path`.
pub fn write(summary: &Summary, path: &Path) -> Result<()> {
    std::fs::write(path, render(summary)?)
        .with_context(|| format!("cannot write the HTML report to {}", path.display()))
}

/// The page as text.
pub fn render(summary: &Summary) -> Result<String> {
    let samples: Vec<_> = summary.history.iter().filter(|row| row.name == "Aggregated").collect();
    let start = samples.first().map_or(0, |row| row.timestamp);
    let at = |timestamp: u64| timestamp.saturating_sub(start) as f64;
    let series = |pick: &dyn Fn(&crate::stats::HistoryRow) -> f64| -> Vec<(f64, f64)> {
        samples.iter().map(|row| (at(row.timestamp), pick(row))).collect()
    };
    let throughput = chart(
        "Requests and failures per second",
        &[
            ("requests/s", series(&|row| row.rps), BLUE),
            ("failures/s", series(&|row| row.failures_per_s), RED),
        ],
    )?;
    let latency = chart(
        "Response time (ms, last 10 s)",
        &[
            ("p50", series(&|row| row.percentiles_ms[0]), GREEN),
            ("p95", series(&|row| row.percentiles_ms[5]), MAGENTA),
            ("p99", series(&|row| row.percentiles_ms[7]), RED),
        ],
    )?;
    let users = chart("Users", &[("users", series(&|row| row.users as f64), BLACK)])?;

    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>wasmload report</title><style>{STYLE}</style></head><body>\
         <h1>wasmload report</h1><p>{} users over {:.1} s: {} requests, {} failures, {:.1} req/s.</p>",
        summary.users, summary.duration_s, summary.totals.requests, summary.totals.failures, summary.totals.rps
    );
    let open_model = summary.aggregated.uncorrected.is_some();
    if open_model {
        let _ = write!(
            page,
            "<p>Open model: {} dropped iterations. Response times are measured from each iteration's intended start (corrected for coordinated omission); the second table has them from the actual send.</p>",
            summary.dropped_iterations
        );
    }
    for svg in [throughput, latency, users] {
        let _ = write!(page, "<figure>{svg}</figure>");
    }
    let rows = || summary.requests.iter().chain([&summary.aggregated]);
    page.push_str("<h2>Requests</h2>");
    page.push_str(&request_table(rows().map(|row| (row, &row.times))));
    if open_model {
        page.push_str("<h2>Requests timed from the actual send (uncorrected)</h2>");
        page.push_str(&request_table(
            rows().filter_map(|row| Some((row, row.uncorrected.as_ref()?))),
        ));
    }
    page.push_str("<h2>Failures</h2><table><tr><th># occurrences</th><th>Type</th><th>Name</th><th>Error</th></tr>");
    for error in &summary.errors {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            error.occurrences,
            escape(error.kind.as_str()),
            escape(error.name.as_str()),
            escape(error.error.as_str())
        );
    }
    page.push_str("</table>");
    if !summary.metrics.is_empty() {
        page.push_str("<h2>Custom metrics</h2><table><tr>");
        for column in METRIC_HEADER {
            let _ = write!(page, "<th>{column}</th>");
        }
        page.push_str("</tr>");
        for metric in &summary.metrics {
            page.push_str("<tr>");
            for cell in metric_cells(metric) {
                let _ = write!(page, "<td>{}</td>", escape(cell.as_str()));
            }
            page.push_str("</tr>");
        }
        page.push_str("</table>");
    }
    page.push_str("</body></html>\n");
    Ok(page)
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:nth-child(2),th:nth-child(2){text-align:left}\
figure{margin:1em 0}";

/// A requests table with these times for each row.
fn request_table<'a>(rows: impl Iterator<Item = (&'a RequestRow, &'a ResponseTimes)>) -> String {
    let mut table = String::from("<table><tr><th>Type</th><th>Name</th><th># reqs</th><th># fails</th><th>Median</th><th>90%</th><th>95%</th><th>99%</th><th>Max</th><th>Avg</th><th>req/s</th></tr>");
    for (row, times) in rows {
        let _ = write!(
            table,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.1}</td></tr>",
            escape(row.kind.as_str()),
            escape(row.name.as_str()),
            row.count,
            row.failures,
            times.p50_ms,
            times.p90_ms,
            times.p95_ms,
            times.p99_ms,
            times.max_ms,
            times.avg_ms,
            row.rps
        );
    }
    table.push_str("</table>");
    table
}

/// One line of a chart: its legend, its (seconds, value) points, its colour.
type Series<'a> = (&'a str, Vec<(f64, f64)>, RGBColor);

/// A line chart of `series` over seconds since the start, as an SVG element.
fn chart(title: &str, series: &[Series<'_>]) -> Result<String> {
    let points = series.iter().flat_map(|(_, points, _)| points);
    let x_max = points.clone().map(|(x, _)| *x).fold(1.0, f64::max);
    let y_max = points.map(|(_, y)| *y).fold(0.0, f64::max).max(1e-3) * 1.1;
    let mut svg = String::new();
    {
        let drawing = SVGBackend::with_string(&mut svg, (900, 300)).into_drawing_area();
        drawing.fill(&WHITE).map_err(|e| anyhow!("chart: {e}"))?;
        let mut chart = ChartBuilder::on(&drawing)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .map_err(|e| anyhow!("chart: {e}"))?;
        chart.configure_mesh().x_desc("seconds").draw().map_err(|e| anyhow!("chart: {e}"))?;
        for (label, points, color) in series {
            let color = *color;
            chart
                .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))
                .map_err(|e| anyhow!("chart: {e}"))?
                .label(*label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| anyhow!("chart: {e}"))?;
        drawing.present().map_err(|e| anyhow!("chart: {e}"))?;
    }
    Ok(svg)
}
