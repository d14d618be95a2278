// Lighthouse scores of a served site, for `nnbasics bench site` (src/nnbasics/bench/site.py runs this).
//
// Usage: node run.mjs CHROME_PATH URL...
// Starts one headless Chromium, runs Lighthouse on every URL as a mobile (Lighthouse's default: a
// Moto G class phone, simulated slow 4G and 4x CPU slowdown) and as a desktop (its desktop preset),
// and prints one JSON object per run on stdout:
//   {"url", "form_factor", "performance", "accessibility", "best-practices", "failing": [audit ids]}
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";

const [chromePath, ...urls] = process.argv.slice(2);
const categories = ["performance", "accessibility", "best-practices"];
const chrome = await chromeLauncher.launch({
  chromePath,
  chromeFlags: [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
try {
  for (const url of urls) {
    for (const [formFactor, config] of [["mobile", undefined], ["desktop", desktopConfig]]) {
      const result = await lighthouse(url, { port: chrome.port, onlyCategories: categories, logLevel: "error" }, config);
      const lhr = result.lhr;
      const out = { url, form_factor: formFactor, failing: [] };
      for (const name of categories) {
        const category = lhr.categories[name];
        out[name] = category.score === null ? null : Math.round(category.score * 100);
        for (const ref of category.auditRefs) {
          const audit = lhr.audits[ref.id];
          if (ref.weight > 0 && audit.score !== null && audit.score < 0.9) out.failing.push(`${ref.id} ${audit.displayValue || audit.score}`);
        }
      }
      if (lhr.runtimeError) out.error = lhr.runtimeError.message;
      process.stdout.write(JSON.stringify(out) + "\n");
    }
  }
} finally {
  await chrome.kill();
}
