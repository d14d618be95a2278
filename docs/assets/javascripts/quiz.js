// The self-check quizzes (mkdocs-quiz, configured in mkdocs.yml: a Submit button, "Try Again",
// shuffled options). What this adds:
// - answers do not persist: mkdocs-quiz keeps them in localStorage, which is cleared here before
//   it reads them back (this script runs at the end of the body, before DOMContentLoaded);
// - the feedback names each chosen option in words ("Right" / "Not right", not only a colour),
//   shows the option as rendered (its formula too, not its text content), and after a wrong pick
//   also shows why the right answer is right;
// - "Try Again" puts the keyboard focus back on the options.
(function () {
  "use strict";

  try {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith("quiz_progress_")) localStorage.removeItem(key);
    }
  } catch (e) {
    // storage disabled: nothing was kept either
  }

  function item(input, right, heading) {
    const box = document.createElement("div");
    box.className = "quiz-feedback-item nn-feedback " + (right ? "correct" : "incorrect");
    const title = document.createElement("p");
    title.className = "nn-feedback__title";
    const verdict = document.createElement("strong");
    verdict.textContent = heading;
    title.append(verdict, " ");
    const label = input.parentElement.querySelector("label");
    const option = document.createElement("span");
    option.className = "nn-feedback__option";
    if (label) option.append(...Array.from(label.childNodes, (n) => n.cloneNode(true)));
    title.append(option);
    box.append(title);
    const why = input.parentElement.querySelector(".answer-feedback");
    if (why && why.innerHTML.trim()) {
      const content = document.createElement("div");
      content.className = "quiz-feedback-item-content";
      content.innerHTML = why.innerHTML;
      box.append(content);
    }
    return box;
  }

  function explain(quiz, feedback) {
    if (feedback.classList.contains("hidden") || !feedback.firstElementChild) return;
    if (feedback.querySelector(".nn-feedback")) return; // already ours
    const inputs = Array.from(quiz.querySelectorAll('input[name="answer"]'));
    const chosen = inputs.filter((i) => i.checked);
    if (!chosen.length) return;
    const items = chosen.map((i) =>
      i.hasAttribute("data-correct") ? item(i, true, "Right:") : item(i, false, "Not right:"),
    );
    if (chosen.some((i) => !i.hasAttribute("data-correct"))) {
      for (const i of inputs) {
        if (i.hasAttribute("data-correct") && !i.checked) items.push(item(i, true, "The right answer:"));
      }
    }
    feedback.replaceChildren(...items);
  }

  function setUp() {
    document.querySelectorAll(".quiz").forEach((quiz) => {
      const feedback = quiz.querySelector(".quiz-feedback");
      if (!feedback || feedback.dataset.nnWatched) return;
      feedback.dataset.nnWatched = "1";
      new MutationObserver(() => explain(quiz, feedback)).observe(feedback, { childList: true });
    });
  }

  document.addEventListener("click", (event) => {
    const retry = event.target.closest && event.target.closest(".quiz-reset-button");
    if (!retry) return;
    const first = retry.closest(".quiz").querySelector('input[name="answer"]');
    if (first) setTimeout(() => first.focus(), 0);
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
