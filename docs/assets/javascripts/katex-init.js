// Render the math that pymdownx.arithmatex (generic mode) and mkdocs-jupyter leave in the page.
// document$ fires on every page view, including Material's instant navigation.
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
    ],
    throwOnError: false,
    // HTML only: with the MathML copy, the quiz's answer badges (built from textContent) showed raw TeX.
    output: "html",
  });
});
