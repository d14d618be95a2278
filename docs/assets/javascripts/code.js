// Keyboard access to every code block that scrolls sideways.
// With Material's "content.lazy" (mkdocs.yml) a code block gets its copy button, and its tabindex when it
// scrolls, only once it comes into view: starting them all at load restyled a long page over and over on a
// phone. A keyboard user must reach a scrolling block before it is in view too, so this gives each such
// block its tabindex at once: every block is measured first, then the attributes are written (one layout).
(function () {
  "use strict";
  const blocks = Array.from(document.querySelectorAll(".md-typeset pre > code"));
  const scrolling = blocks.filter((code) => code.scrollWidth > code.clientWidth);
  for (const code of scrolling) {
    if (!code.hasAttribute("tabindex")) code.setAttribute("tabindex", "0");
  }
})();
