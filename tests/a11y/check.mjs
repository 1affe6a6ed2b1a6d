// Checks one HTML page for HTML5 validity (html-validate) and accessibility (axe-core,
// every WCAG 2.x A/AA/AAA rule and the best practices, in Debian's headless Chromium via
// playwright-core). Exit 0 when both pass, 1 on any violation, 2 on a usage error.
//
//   npm ci && node check.mjs PAGE.html [SCREENSHOT.png]
//
// The browser is /usr/bin/chromium unless CHROMIUM names another.

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

import { HtmlValidate } from "html-validate";
import { chromium } from "playwright-core";

const [page, screenshot] = process.argv.slice(2);
if (!page) {
  console.error("usage: node check.mjs PAGE.html [SCREENSHOT.png]");
  process.exit(2);
}
const file = resolve(page);
if (!existsSync(file)) {
  console.error(`check.mjs: no such file: ${file}`);
  process.exit(2);
}
let failed = false;

// 1. HTML5 validity and the markup rules of html-validate's recommended and a11y presets.
const validator = new HtmlValidate({
  extends: ["html-validate:recommended", "html-validate:a11y"],
});
const report = await validator.validateFile(file);
for (const result of report.results) {
  for (const m of result.messages) {
    console.log(`html-validate: ${m.ruleId} at ${m.line}:${m.column}: ${m.message}`);
  }
}
console.log(`html-validate: ${report.errorCount} errors, ${report.warningCount} warnings`);
failed ||= !report.valid || report.warningCount > 0;

// 2. axe-core in headless Chromium.
const axeSource = readFileSync(
  createRequire(import.meta.url).resolve("axe-core/axe.min.js"),
  "utf8",
);
const userDataDir = mkdtempSync(join(tmpdir(), "narrate-a11y-"));
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const tab = context.pages()[0] ?? (await context.newPage());
  const external = [];
  tab.on("request", (r) => {
    if (!r.url().startsWith("file:")) external.push(r.url());
  });
  await tab.goto(pathToFileURL(file).href);
  await tab.addScriptTag({ content: axeSource });
  const results = await tab.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, {
      runOnly: {
        type: "tag",
        values: ["wcag2a", "wcag2aa", "wcag2aaa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
      },
      rules: { "color-contrast-enhanced": { enabled: true } },
      resultTypes: ["violations", "incomplete"],
    }),
  );
  if (screenshot) {
    await tab.screenshot({ path: screenshot, fullPage: true });
  }
  for (const v of results.violations) {
    console.log(`axe: ${v.id} (${v.impact}): ${v.help}`);
    for (const node of v.nodes) {
      console.log(`  at ${node.target.join(" ")}: ${node.failureSummary.replace(/\s+/g, " ")}`);
    }
  }
  for (const v of results.incomplete) {
    console.log(`axe: needs review: ${v.id}: ${v.help} (${v.nodes.length} nodes)`);
  }
  for (const url of external) {
    console.log(`external request: ${url}`);
  }
  console.log(
    `axe-core ${results.testEngine.version}: ${results.violations.length} violations, ` +
      `${results.incomplete.length} to review, ${external.length} external requests`,
  );
  failed ||= results.violations.length > 0 || external.length > 0;
} finally {
  await context?.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
