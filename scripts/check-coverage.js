#!/usr/bin/env node
// Fails when any measured contract is below the required line or branch coverage.
// Reads coverage/coverage-summary.json, written by `npx hardhat coverage`.
"use strict";

const fs = require("fs");
const path = require("path");

const MINIMUM = Number(process.env.COVERAGE_MINIMUM || 95);
const summaryPath = path.join(__dirname, "..", "coverage", "coverage-summary.json");
const summary = JSON.parse(fs.readFileSync(summaryPath, "utf8"));

let failed = false;
for (const [file, figures] of Object.entries(summary)) {
  if (file === "total" || figures.lines.total === 0) continue;
  const name = path.basename(file);
  const lines = figures.lines.pct;
  const branches = figures.branches.total === 0 ? 100 : figures.branches.pct;
  const ok = lines >= MINIMUM && branches >= MINIMUM;
  failed ||= !ok;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}: lines ${lines}%, branches ${branches}%`);
}
if (failed) {
  console.error(`coverage below ${MINIMUM}% in at least one contract`);
  process.exit(1);
}
console.log(`every contract has at least ${MINIMUM}% of its lines and branches covered`);
