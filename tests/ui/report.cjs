// Opens a wasmload HTML report in Debian's chromium, as a person would:
// looks at the charts of the whole run, picks a request name for the
// charts over time and another for its distribution. Screenshots go to
// SHOTS; the last line printed is JSON the Rust test checks: every chart
// drawn (with how many points), the page's figures and any page errors.
//
//     node report.cjs REPORT.html SHOTS
//
// The browser is browser.cjs's: Debian's chromium, driven by playwright-core.
"use strict";
const fs = require("fs");
const path = require("path");
const { open } = require("./browser.cjs");

const [report, shots] = process.argv.slice(2);

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  const { browser, page, problems } = await open();
  // The report must need nothing from the network.
  page.on("request", (request) => { if (!request.url().startsWith("file:")) problems.push("fetched " + request.url()); });
  const shot = (name) => page.screenshot({ path: path.join(shots, name + ".png"), fullPage: true });
  const charts = (selector) => page.$$eval(selector + " [data-chart]", (boxes) =>
    boxes.map((box) => ({ title: box.dataset.chart, points: Number(box.dataset.points) })));

  await page.goto("file://" + path.resolve(report));
  await page.waitForSelector("[data-chart]");
  const drawn = [];
  drawn.push(...await charts("section"));
  await shot("report");

  // A request name instead of the whole run.
  const groups = await page.$$eval("#group option", (options) => options.map((option) => option.value));
  const name = groups.find((group) => group !== "Aggregated");
  if (name) {
    await page.selectOption("#group", name);
    drawn.push(...await charts("section:has(#group)"));
  }
  const rows = await page.$$eval("#row option", (options) => options.map((option) => option.value));
  await page.selectOption("#row", rows[0]);
  drawn.push(...await charts("section:has(#row)"));
  await shot("report-by-name");

  const figure = (label) => page.$eval(`.figure:has(span:text-is("${label}")) b`, (b) => b.textContent);
  const result = {
    problems,
    charts: drawn,
    requests: await figure("requests"),
    thresholds: await page.$eval(".verdict", (p) => p.textContent).catch(() => ""),
  };
  await browser.close();
  console.log(JSON.stringify(result));
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
