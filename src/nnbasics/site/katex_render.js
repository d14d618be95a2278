// Render TeX with KaTeX for the site build (nnbasics.site.math_html starts this script with node).
//
// Usage: node katex_render.js PATH/TO/node_modules/katex
// Protocol: each input line is a JSON array of [tex, display] pairs; each output line is a JSON
// array, in the same order, of {"html": ...} or {"error": ...} objects. The output is KaTeX's
// "htmlAndMathml": the visible HTML (aria-hidden) with MathML beside it for assistive technology.
"use strict";

const katex = require(process.argv[2]);
const readline = require("readline");

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  const out = JSON.parse(line).map(([tex, display]) => {
    try {
      const html = katex.renderToString(tex, {
        displayMode: display,
        output: "htmlAndMathml",
        throwOnError: true,
        strict: "ignore", // Unicode in math mode (e.g. "·") is fine for the browser
      });
      return { html };
    } catch (e) {
      return { error: String(e.message || e) };
    }
  });
  process.stdout.write(JSON.stringify(out) + "\n");
});
