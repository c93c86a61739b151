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

// Live pages (Server-Sent Events). New posts wait behind an "N new posts" button above the
// feed, so what the reader is reading never moves; a thread's new replies are added below.
// The browser reconnects by itself and sends the last event id: nothing is missed.
function plural(n, noun) {
  return `${n} new ${noun}${n === 1 ? "" : "s"}`;
}

function bumpBadge(count) {
  document.querySelectorAll("[data-live-badge]").forEach((badge) => {
    const n = Number(badge.dataset.count || 0) + count;
    badge.dataset.count = String(n);
    badge.textContent = String(n);
    badge.setAttribute("aria-label", `${n} new`);
    badge.hidden = false;
  });
}

function bindLive(root) {
  if (typeof EventSource === "undefined") return;
  const list = root.querySelector("[data-live-list]") || root.querySelector(".feed") || root;
  const banner = root.querySelector("[data-live-banner]");
  const noun = root.dataset.liveNoun || "post";
  const append = root.dataset.liveMode === "append";
  const title = document.title;
  const waiting = [];
  let since = root.dataset.liveSince || "";
  let notes = 0;
  let gap = false;
  let source = null;
  const known = (id) =>
    document.querySelector(`[data-post-id="${id}"]`) !== null || waiting.some((w) => w.id === id);
  const showBanner = () => {
    const n = waiting.length + notes;
    document.title = n > 0 ? `(${n}) ${title}` : title;
    if (!banner) return;
    banner.textContent = gap ? "More new posts than fit here: reload" : plural(n, noun);
    banner.hidden = n === 0 && !gap;
  };
  const remember = (event) => {
    if (event.lastEventId) since = event.lastEventId;
  };
  const onPost = (event) => {
    remember(event);
    const data = JSON.parse(event.data);
    if (known(data.id)) return;
    const template = document.createElement("template");
    template.innerHTML = data.html.trim();
    const node = template.content.firstElementChild;
    if (!node) return;
    if (append) {
      list.append(node);
      return;
    }
    waiting.push({ id: data.id, node });
    showBanner();
  };
  const onNotification = (event) => {
    const { count } = JSON.parse(event.data);
    bumpBadge(count);
    if (banner && banner.hasAttribute("data-live-reload")) {
      notes += count;
      showBanner();
    }
  };
  const open = () => {
    const url = new URL(root.dataset.live, window.location.href);
    if (since) url.searchParams.set("since", since);
    source = new EventSource(url);
    source.addEventListener("ready", remember);
    source.addEventListener("post", onPost);
    source.addEventListener("notification", onNotification);
    source.addEventListener("gap", () => {
      gap = true;
      showBanner();
    });
  };
  // A browser allows six connections per server over HTTP/1.1: a tab in the background
  // gives its stream back, and catches up from where it was when it comes to the front.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden && source) {
      source.close();
      source = null;
    } else if (!document.hidden && !source) {
      open();
    }
  });
  if (!document.hidden) open();
  if (banner) {
    banner.addEventListener("click", () => {
      if (gap || banner.hasAttribute("data-live-reload")) {
        window.location.reload();
        return;
      }
      root.querySelectorAll(".empty").forEach((empty) => empty.remove());
      // Oldest first, each put on top: the newest ends up first, as the feed is ordered.
      for (const { node } of waiting.splice(0)) list.prepend(node);
      showBanner();
      list.querySelector("[data-post-id]")?.scrollIntoView({ block: "nearest" });
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-live]").forEach(bindLive);
});

// Reactions are sent in the background, so that a refusal (the per-post limit) is said under
// the post without leaving the page; a reaction given or taken back reloads the page, as the
// form would. Without JavaScript the form posts and the server redirects back with a notice.
const REACTION_ACTION = /^\/posts\/\d+\/(react|unreact)$/;

function showReactionError(form, message) {
  const place = form.closest(".reactions") || form;
  let note = place.querySelector(".reaction-error");
  if (!note) {
    note = document.createElement("p");
    note.className = "error reaction-error";
    note.setAttribute("role", "alert");
    place.append(note);
  }
  note.textContent = message;
}

document.addEventListener("submit", async (event) => {
  const button = event.submitter;
  const action = button?.getAttribute("formaction") || "";
  if (!REACTION_ACTION.test(action) || button.dataset.plain) return;
  event.preventDefault();
  const form = event.target;
  let response;
  try {
    response = await fetch(action, {
      method: "POST",
      body: new FormData(form, button),
      headers: { Accept: "application/json" },
      redirect: "manual",
      credentials: "same-origin",
    });
  } catch {
    button.dataset.plain = "1"; // the network failed: let the browser send the form itself
    form.requestSubmit(button);
    return;
  }
  if (response.type === "opaqueredirect" || response.ok) {
    window.location.reload();
    return;
  }
  let message = "That reaction could not be given.";
  try {
    message = (await response.json()).error || message;
  } catch {
    // not JSON: keep the general message
  }
  showReactionError(form, message);
});
