// Progressive enhancement only: every form works without this file.
"use strict";

// Count characters as people do (grapheme clusters), exactly as the server does.
const segmenter = typeof Intl !== "undefined" && Intl.Segmenter
  ? new Intl.Segmenter(undefined, { granularity: "grapheme" })
  : null;

function countChars(text) {
  const normalized = text.replace(/\r\n?/g, "\n").trim();
  if (segmenter) {
    let n = 0;
    for (const _ of segmenter.segment(normalized)) n += 1;
    return n;
  }
  return Array.from(normalized).length;
}

function bindCounter(textarea) {
  const max = Number(textarea.dataset.maxChars);
  const output = document.getElementById(textarea.getAttribute("aria-describedby"));
  const button = textarea.form.querySelector("button[type=submit]");
  const update = () => {
    const left = max - countChars(textarea.value);
    output.textContent = String(left);
    output.classList.toggle("over", left < 0);
    output.setAttribute("aria-label", left < 0
      ? `${-left} characters over the limit of ${max}`
      : `${left} characters left`);
    if (button) button.disabled = left < 0;
  };
  textarea.addEventListener("input", update);
  update();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("textarea[data-max-chars]").forEach(bindCounter);
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
