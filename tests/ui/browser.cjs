// Debian's chromium, driven by playwright-core ($WASMLOAD_TOOLS/ui, from
// scripts/test-tools.sh), with a fresh profile and no background
// networking (this machine's network is closed), and a page that keeps
// every error it logs.
"use strict";
const path = require("path");
const os = require("os");

const tools = process.env.WASMLOAD_TOOLS || path.join(os.homedir(), ".cache", "wasmload-tools");
const { chromium } = require(path.join(tools, "ui", "node_modules", "playwright-core"));

// The browser, and a new 1280×1000 page of it; `problems` gathers what the
// page logs as errors, but for messages `ignored` says are expected.
async function open(options = {}, ignored = () => false) {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage(Object.assign({ viewport: { width: 1280, height: 1000 } }, options));
  const problems = [];
  page.on("pageerror", (error) => problems.push("page error: " + error.message));
  page.on("console", (message) => {
    if (message.type() === "error" && !ignored(message.text())) problems.push("console: " + message.text());
  });
  return { browser, page, problems };
}

module.exports = { open };
