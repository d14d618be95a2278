// Lighthouse scores of a served site, for `nnbasics bench site` (src/nnbasics/bench/site.py runs this).
//
// Usage: node run.mjs CHROME_PATH "CHROME_FLAGS" RUNS URL...  (headless is added to the flags)
// Starts one headless Chromium, runs Lighthouse RUNS times on every URL as a mobile (Lighthouse's
// default: a Moto G class phone, simulated slow 4G and 4x CPU slowdown) and as a desktop (its desktop
// preset), and prints, per URL and form factor, the run with the median performance score (Lighthouse's
// advice for noisy machines) as one JSON object on stdout:
//   {"url", "form_factor", "runs", "performance", "accessibility", "best-practices", "failing": [audits],
//    "performance_all": [every run's score]}
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";

const [chromePath, chromeFlags, runsArg, ...urls] = process.argv.slice(2);
const runs = Math.max(1, parseInt(runsArg, 10) || 1);
const categories = ["performance", "accessibility", "best-practices"];
const chrome = await chromeLauncher.launch({
  chromePath,
  chromeFlags: ["--headless=new", ...chromeFlags.split(" ").filter(Boolean)],
});
function summary(lhr, url, formFactor) {
  const out = { url, form_factor: formFactor, failing: [] };
  for (const name of categories) {
    const category = lhr.categories[name];
    out[name] = category.score === null ? null : Math.round(category.score * 100);
    for (const ref of category.auditRefs) {
      const audit = lhr.audits[ref.id];
      if (ref.weight > 0 && audit.score !== null && audit.score < 0.9) {
        out.failing.push(`${ref.id} ${audit.displayValue || audit.score}`);
      }
    }
  }
  if (lhr.runtimeError) out.error = lhr.runtimeError.message;
  return out;
}

try {
  for (const url of urls) {
    for (const [formFactor, config] of [["mobile", undefined], ["desktop", desktopConfig]]) {
      const done = [];
      for (let n = 0; n < runs; n++) {
        const result = await lighthouse(url, { port: chrome.port, onlyCategories: categories, logLevel: "error" }, config);
        done.push(summary(result.lhr, url, formFactor));
      }
      done.sort((a, b) => (a.performance ?? -1) - (b.performance ?? -1));
      const median = done[Math.floor(done.length / 2)];
      median.runs = done.length;
      median.performance_all = done.map((d) => d.performance);
      process.stdout.write(JSON.stringify(median) + "\n");
    }
  }
} finally {
  await chrome.kill();
}
