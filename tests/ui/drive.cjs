// Drives the web UI of a running `wasmload serve` in Debian's chromium, as
// a person would: sign in, upload a component, start a run from the form,
// watch it live, stop a second one, download a report. Screenshots go to
// SHOTS; the last line printed is JSON the Rust test checks.
//
//     node drive.cjs SERVER TOKEN COMPONENT TARGET OTHER_TARGET SHOTS
//
// The first run goes against TARGET, the stopped one against OTHER_TARGET.
//
// The browser is browser.cjs's: Debian's chromium, driven by playwright-core.
"use strict";
const fs = require("fs");
const path = require("path");
const { open } = require("./browser.cjs");

const [server, token, component, target, otherTarget, shots] = process.argv.slice(2);

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  // A 401 is expected: the page tries without a token, then with a wrong one.
  const { browser, page, problems } =
    await open({ acceptDownloads: true }, (text) => text.includes("status of 401"));
  const shot = (name) => page.screenshot({ path: path.join(shots, name + ".png"), fullPage: true });

  await page.goto(server + "/");
  await page.fill("#token", "wl_wrong");
  await page.click("#signin-go");
  await page.waitForSelector("#signin-error:has-text('unknown token')");
  await page.fill("#token", token);
  await page.click("#signin-go");
  await page.waitForSelector("#who:has-text('tenant ui')");

  await page.click("nav a[data-tab=components]");
  await page.setInputFiles("#upload-file", component);
  await page.click("#upload-go");
  await page.waitForSelector("#components tbody tr");
  await page.waitForSelector("#upload-result:has-text('Uploaded')");
  await shot("components");

  await page.click("#components tbody tr a");
  await page.waitForSelector("#run-go");
  await page.fill("#run-users", "4");
  await page.fill("#run-time", "8s");
  await page.fill("#run-host", target);
  await page.fill("#run-params", "WAIT_MS=20");
  await page.fill("#run-thresholds", "fail_ratio<0.01\np95<1s");
  await shot("new-run");
  await page.click("#run-go");
  await page.waitForSelector("#run-state:has-text('running')", { timeout: 20000 });
  await page.waitForFunction(() => document.querySelectorAll("#charts polyline").length >= 3 &&
    document.querySelectorAll("#stats tbody tr").length >= 1, null, { timeout: 20000 });
  await page.waitForTimeout(3000);
  await shot("live");
  await page.waitForSelector("#run-state:has-text('finished')", { timeout: 40000 });
  await page.waitForSelector("#results");
  // The run's report, the page --html writes, drawn in the results.
  const reportFrame = await (await page.waitForSelector("#report")).contentFrame();
  await reportFrame.waitForSelector("[data-chart]", { timeout: 20000 });
  const reportCharts = await reportFrame.$$eval("[data-chart]", (boxes) =>
    boxes.map((box) => ({ title: box.dataset.chart, points: Number(box.dataset.points) })));
  await shot("finished");
  const exitCode = await page.textContent("#exit-code");
  const thresholds = await page.textContent("#thresholds");
  const row = await page.$$eval("#stats tbody tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.click(".downloads a[data-file='report.json']"),
  ]);
  const saved = path.join(shots, "report.json");
  await download.saveAs(saved);
  const report = JSON.parse(fs.readFileSync(saved, "utf8"));

  // A second run, stopped from the page.
  await page.click("nav a[data-tab=new]");
  await page.waitForSelector("#run-go");
  await page.fill("#run-users", "2");
  await page.fill("#run-time", "5m");
  await page.fill("#run-host", otherTarget);
  await page.fill("#run-params", "WAIT_MS=50");
  await page.click("#run-go");
  await page.waitForSelector("#run-state:has-text('running')", { timeout: 20000 });
  await page.waitForTimeout(2500);
  await page.click("#run-stop");
  await page.waitForSelector("#run-state:has-text('stopped')", { timeout: 30000 });
  await shot("stopped");

  await page.click("nav a[data-tab=runs]");
  await page.waitForSelector("#runs tbody tr:nth-child(2)");
  await shot("runs");
  await browser.close();
  console.log(JSON.stringify({ exitCode, thresholds, row, reportRequests: report.totals.requests, reportCharts, problems }));
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
