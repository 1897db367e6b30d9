// The HTML report: draws the page from the JSON it carries (#report-data),
// with uPlot (inlined beside this file) for the charts. Every chart's
// element says how many of its values are not zero (data-points), so a
// test can tell an empty or flat chart from a drawn one.
"use strict";
(() => {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const summary = data.summary;
  const root = document.getElementById("report");
  const colors = { blue: "#2563eb", red: "#dc2626", green: "#059669", amber: "#d97706", violet: "#7c3aed", grey: "#6b7280" };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const fixed = (value, digits) => (value === null || value === undefined ? "" : Number(value).toFixed(digits));
  const when = (seconds) => (seconds ? new Date(seconds * 1000).toISOString().replace(".000", "") : "");
  const section = (title, ...children) => root.append(el("section", {}, el("h2", {}, title), ...children));
  function table(header, rows, numeric) {
    const head = el("tr", {}, header.map((cell, index) => el("th", { class: numeric.includes(index) ? "num" : "" }, cell)));
    const body = rows.map((row) => el("tr", {}, row.map((cell, index) => el("td", { class: numeric.includes(index) ? "num" : "" }, cell))));
    return el("table", {}, el("thead", {}, head), el("tbody", {}, body));
  }
  const groupOf = (row) => (row.type ? row.type + " " + row.name : row.name);
  const aggregated = data.rows[data.rows.length - 1];

  // Header and the figures that matter first.
  const run = summary.run;
  root.append(el("header", {},
    el("h1", {}, "wasmload report"),
    el("p", { class: "lede" }, run ? run.component + " · " + when(run.started_at) + " to " + when(run.ended_at) : "")));
  const figures = [
    ["users", summary.users], ["req/s", fixed(summary.totals.rps, 1)], ["requests", summary.totals.requests],
    ["failures", summary.totals.failures], ["p95 ms", fixed(aggregated.p95_ms, 2)], ["p99 ms", fixed(aggregated.p99_ms, 2)],
  ];
  root.append(el("div", { class: "figures" }, figures.map(([label, value]) => el("div", { class: "figure" }, el("b", {}, value), el("span", {}, label)))));
  const verdicts = summary.thresholds || [];
  if (verdicts.length) {
    const failed = verdicts.filter((verdict) => !verdict.held).length;
    root.append(el("p", { class: failed ? "verdict failed" : "verdict held" },
      failed ? failed + " of " + verdicts.length + " thresholds failed" : "All " + verdicts.length + " thresholds held"));
  }
  if ((summary.lost_segments || []).length) {
    root.append(el("p", { class: "verdict failed" }, summary.lost_segments.length + " segments were lost: their results are only what they sent before"));
  }

  // Charts, kept per area so a redraw can let the old ones go.
  const drawn = { overTime: [], byName: [] };
  function forget(area) {
    for (const plot of drawn[area]) plot.destroy();
    drawn[area] = [];
  }
  function chart(area, holder, title, series, build) {
    holder.replaceChildren();
    const box = el("div", { class: "chart", "data-chart": title });
    holder.append(box);
    const width = Math.max(320, Math.min(holder.clientWidth || 900, 1100));
    const options = Object.assign({ title, width, height: 260, series, cursor: { drag: { x: true, y: false } } }, build.options || {});
    const plot = new uPlot(options, build.data, box);
    let points = 0;
    for (const column of build.data.slice(1)) for (const value of column) if (value) points++;
    box.dataset.points = String(points);
    drawn[area].push(plot);
    return plot;
  }
  const line = (label, stroke) => ({ label, stroke, width: 2, points: { show: false } });

  const overTime = el("div", { class: "charts" });
  const groups = Object.keys(data.series);
  const groupPick = el("select", { id: "group" }, groups.map((group) => el("option", { value: group }, group)));
  if (groups.includes("Aggregated")) groupPick.value = "Aggregated";
  section("Over time", el("p", { class: "note" },
    groups.length > 1 ? "Pick a request name or the whole run. Drag to zoom, double-click to reset; click a legend entry to hide its line."
      : "Drag to zoom, double-click to reset; click a legend entry to hide its line. Per-name series come with --csv-full-history."),
  el("label", {}, "Requests ", groupPick), overTime);
  function drawOverTime() {
    const series = data.series[groupPick.value];
    forget("overTime");
    overTime.replaceChildren();
    if (!series) return;
    const holders = [0, 1, 2].map(() => el("div", { class: "holder" }));
    overTime.append(...holders);
    const time = { x: { time: true } };
    chart("overTime", holders[0], "Requests and failures per second", [{}, line("req/s", colors.blue), line("failures/s", colors.red)],
      { data: [series.t, series.rps, series.failures_per_s], options: { scales: time } });
    chart("overTime", holders[1], "Response time, last 10 s (ms)",
      [{}, line("p50", colors.green), line("p90", colors.blue), line("p95", colors.amber), line("p99", colors.red)],
      { data: [series.t, series.p50, series.p90, series.p95, series.p99], options: { scales: time } });
    chart("overTime", holders[2], "Users", [{}, line("users", colors.violet)], { data: [series.t, series.users], options: { scales: time } });
  }
  groupPick.addEventListener("change", drawOverTime);

  // Each name's distribution and percentile curve, from its exact histogram.
  const byName = el("div", { class: "charts" });
  const rowPick = el("select", { id: "row" }, data.rows.map((row, index) => el("option", { value: String(index) }, groupOf(row))));
  rowPick.value = String(data.rows.length - 1);
  section("Response times by name", el("p", { class: "note" }, "From the whole run's histogram of each name."),
    el("label", {}, "Requests ", rowPick), byName);
  // Percentiles on a scale of nines: 90%, 99%, 99.9% ... equally apart.
  const nines = (percentile) => (percentile >= 100 ? 5.5 : -Math.log10(1 - percentile / 100));
  const nineLabels = { 0: "0%", 1: "90%", 2: "99%", 3: "99.9%", 4: "99.99%", 5: "99.999%" };
  function baseCurve(row) {
    const comparison = data.comparison;
    if (!comparison) return null;
    const change = comparison.changes.find((change) => change.type === row.type && change.name === row.name);
    return change && change.base ? change.base.percentiles_ms : null;
  }
  function drawByName() {
    const row = data.rows[Number(rowPick.value)];
    forget("byName");
    byName.replaceChildren();
    if (!row.count) {
      byName.append(el("p", { class: "note" }, "No requests of this name."));
      return;
    }
    const holders = [0, 1].map(() => el("div", { class: "holder" }));
    byName.append(...holders);
    const middles = row.distribution.map(([from, to]) => Math.sqrt(from * to));
    chart("byName", holders[0], "Distribution of response times (ms, log scale)", [{}, {
      label: "requests", stroke: colors.blue, fill: "rgba(37,99,235,0.35)", paths: uPlot.paths.bars({ size: [0.9, 60] }), points: { show: false },
    }], { data: [middles, row.distribution.map(([, , count]) => count)], options: { scales: { x: { time: false, distr: 3 } } } });
    const x = row.curve.map(([percentile]) => nines(percentile));
    const series = [{}, line("this run (ms)", colors.blue)];
    const columns = [x, row.curve.map(([, ms]) => ms)];
    const base = baseCurve(row);
    if (base) {
      // The base run's p50, p90, p95, p99 as points on the same scale.
      const at = { 50: base[0], 90: base[1], 95: base[2], 99: base[3] };
      series.push({ label: "base run (ms)", stroke: colors.grey, width: 0, points: { show: true, size: 8 } });
      columns.push(row.curve.map(([percentile]) => (percentile in at ? at[percentile] : null)));
    }
    chart("byName", holders[1], "Percentile curve (ms)", series, {
      data: columns,
      options: {
        scales: { x: { time: false } },
        axes: [{ splits: () => [0, 1, 2, 3, 4, 5], values: (plot, splits) => splits.map((split) => nineLabels[split] || "") }, {}],
      },
    });
  }
  rowPick.addEventListener("change", drawByName);

  // Tables.
  const requestRows = (rows) => rows.map((row) => [row.type, row.name, row.count, row.failures, fixed(row.p50_ms, 2),
    fixed(row.p90_ms, 2), fixed(row.p95_ms, 2), fixed(row.p99_ms, 2), fixed(row.max_ms, 2), fixed(row.avg_ms, 2), fixed(row.rps, 1)]);
  const requestHeader = ["Type", "Name", "# reqs", "# fails", "Median", "90%", "95%", "99%", "Max", "Avg", "req/s"];
  const numbers = [2, 3, 4, 5, 6, 7, 8, 9, 10];
  section("Requests (ms)", table(requestHeader, requestRows(data.rows), numbers));
  if (data.uncorrected.length) {
    section("Requests timed from the actual send (ms, uncorrected)", el("p", { class: "note" },
      "Open model: the table above times each request from its iteration's intended start, so a stalled target shows."),
    table(requestHeader, requestRows(data.uncorrected), numbers));
  }
  if (verdicts.length) {
    section("Thresholds", table(["", "Threshold", "Observed"],
      verdicts.map((verdict) => [verdict.held ? "held" : "FAILED", verdict.threshold, verdict.line]), []));
  }
  if (data.comparison) {
    const comparison = data.comparison;
    const pair = (change, pick) => (change.base ? pick(change.base) : "none") + " → " + (change.new ? pick(change.new) : "none");
    section("Compared with the base run", el("p", { class: "note" },
      "Worse: a percentile up more than " + fixed(comparison.tolerance.percentile * 100, 0) + "%, or the failure ratio up more than " +
      fixed(comparison.tolerance.failure_ratio * 100, 1) + " points."),
    table(["Type", "Name", "# reqs", "Fail ratio", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "Worse"],
      comparison.changes.map((change) => [change.type, change.name, pair(change, (side) => side.requests),
        pair(change, (side) => fixed(side.failure_ratio * 100, 2) + "%"),
        ...[0, 1, 2, 3].map((slot) => pair(change, (side) => fixed(side.percentiles_ms[slot], 2))), change.worse.join(", ")]), [2, 4, 5, 6, 7]));
  }
  if (summary.errors.length) {
    section("Failures", table(["# occurrences", "Type", "Name", "Error", "First seen", "Last seen"],
      summary.errors.map((error) => [error.occurrences, error.type, error.name, error.error, when(error.first_seen), when(error.last_seen)]), [0]));
  }
  if (summary.task_errors.length) {
    section("Task errors", table(["# occurrences", "Class", "Task", "Error"],
      summary.task_errors.map((error) => [error.occurrences, error.class, error.task, error.error]), [0]));
  }
  if (summary.metrics.length) {
    section("Custom metrics", table(["Name", "Kind", "Total / samples", "Min", "Avg", "Median", "95%", "Max"],
      summary.metrics.map((metric) => metric.kind === "trend"
        ? [metric.name, metric.kind, metric.value, fixed(metric.min, 3), fixed(metric.avg, 3), fixed(metric.p50, 3), fixed(metric.p95, 3), fixed(metric.max, 3)]
        : [metric.name, metric.kind, metric.value, "", "", "", "", ""]), [2, 3, 4, 5, 6, 7]));
  }
  if ((summary.lost_segments || []).length) {
    section("Lost segments", table(["Segment", "Why"], summary.lost_segments.map((lost) => [lost.segment, lost.reason]), []));
  }
  const record = [
    ["Users (peak)", summary.users], ["Duration", fixed(summary.duration_s, 1) + " s"],
    ["All users started in", summary.all_users_started_s === null || summary.all_users_started_s === undefined ? "" : fixed(summary.all_users_started_s, 2) + " s"],
    ["User instances replaced after traps", summary.user_restarts], ["Dropped iterations (open model)", summary.dropped_iterations],
    ["Guest log bytes dropped", summary.log_dropped_bytes],
  ];
  if (run) {
    record.unshift(["Component", run.component], ["sha256", run.sha256], ["Started", when(run.started_at)], ["Ended", when(run.ended_at)],
      ["wasmload", run.version], ["Cores", run.cores], ["Segments", run.segments]);
    for (const [key, value] of Object.entries(run.options)) record.push(["--" + key, typeof value === "string" ? value : JSON.stringify(value)]);
  }
  section("What was run", table(["", ""], record, []));

  drawOverTime();
  drawByName();
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => { drawOverTime(); drawByName(); }, 200);
  });
})();
