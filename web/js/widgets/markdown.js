// Insight text (Markdown a model wrote, so untrusted) as DOM: marked turns it into HTML with
// every raw HTML block or tag escaped to text, DOMPurify (a strict profile of its own) parses
// and cleans that HTML and hands back a DocumentFragment, so no HTML string is ever assigned.
// Images are dropped (their alt text stays): the page loads nothing the model names. Links
// keep only http(s), mailto and relative targets, and open nothing with access to this page.

import DOMPurify from "../../vendor/dompurify/purify.es.mjs";
import { Marked } from "../../vendor/marked/marked.esm.js";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function escape(text) {
  return String(text).replace(/[&<>"']/g, (character) => ESCAPES[character]);
}

const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    // `<script>…</script>` or `<img onerror=…>` in the text is shown as the text it is.
    html: (token) => escape(token.text),
    image: (token) => escape(token.text || ""),
  },
});

const purify = DOMPurify(window); // an instance of our own: its hook touches nobody else's
// A scheme of these, or none (a relative link); never "//elsewhere", javascript:, data: ….
const SAFE_URL = /^(?:https?:|mailto:|#|\/(?!\/)|[^:/?#]+(?:[/?#]|$))/i;
const CONFIG = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ["style", "img", "picture", "source", "video", "audio", "iframe", "form", "input", "button", "textarea", "select"],
  FORBID_ATTR: ["style", "class", "id", "srcset"],
  ALLOWED_URI_REGEXP: SAFE_URL,
  RETURN_DOM_FRAGMENT: true,
};

purify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName !== "A") return;
  const href = node.getAttribute("href");
  if (!href) return;
  node.setAttribute("rel", "noopener noreferrer");
  try {
    if (new URL(href, location.href).origin !== location.origin) node.setAttribute("target", "_blank");
  } catch {
    node.removeAttribute("href"); // not a URL at all
  }
});

/** The Markdown `text` as a sanitised DocumentFragment, ready to append. */
export function renderMarkdown(text) {
  return purify.sanitize(marked.parse(text || ""), CONFIG);
}

/** Replaces the children of `element` with `text` rendered. */
export function showMarkdown(element, text) {
  element.replaceChildren(renderMarkdown(text));
  return element;
}
