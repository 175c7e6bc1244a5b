// Notifications EngLog sends on its own (logging reminders), as toasts in a corner of every
// screen: announced politely, dismissed with Escape or their button, gone after a while
// unless the pointer or the focus is on them. The feed resumes with `since` after a
// reconnect (live.js), so a reminder is shown once, never twice.

import { h } from "../dom.js";
import * as live from "../live.js";

const NOTIFICATIONS = `subscription Notifications($since: String) {
  notifications(since: $since) { cursor notification { id kind title body createdAt } }
}`;
const SHOWN_FOR_MS = 12_000;
const MOST_AT_ONCE = 4;

let region = null;
let stopFeed = null;

function toastRegion() {
  if (!region || !region.isConnected) {
    region = h("section", { class: "toasts", "aria-label": "Notifications", role: "status", "aria-live": "polite" });
    document.body.append(region);
  }
  return region;
}

function toast(notification) {
  let timer = null;
  let held = false;
  const close = () => {
    clearTimeout(timer);
    const hadFocus = item.contains(document.activeElement);
    item.remove();
    if (hadFocus) document.getElementById("main")?.focus({ preventScroll: true });
  };
  const later = () => {
    clearTimeout(timer);
    if (!held) timer = setTimeout(close, SHOWN_FOR_MS);
  };
  const hold = (on) => () => {
    held = on;
    if (on) clearTimeout(timer);
    else later();
  };
  const item = h(
    "div",
    {
      class: "toast",
      dataset: { id: notification.id, kind: notification.kind },
      onkeydown: (event) => {
        if (event.key === "Escape") close();
      },
      onmouseenter: hold(true),
      onmouseleave: hold(false),
      onfocusin: hold(true),
      onfocusout: hold(false),
    },
    h("div", { class: "toast-text" }, h("p", { class: "toast-title" }, notification.title), h("p", { class: "toast-body" }, notification.body)),
    h("button", { type: "button", class: "link", "aria-label": `Dismiss “${notification.title}”`, onclick: close }, "Dismiss"),
  );
  const into = toastRegion();
  into.append(item);
  while (into.children.length > MOST_AT_ONCE) into.firstElementChild.remove();
  later();
}

/** Starts showing the signed-in user's notifications (once; again after stop()). */
export function start() {
  if (stopFeed) return;
  toastRegion(); // in the page before anything is said in it, so that it is announced
  stopFeed = live.feed(NOTIFICATIONS, "notifications", (event) => toast(event.notification));
}

/** Stops the feed and clears the toasts (signing out). */
export function stop() {
  if (stopFeed) stopFeed();
  stopFeed = null;
  if (region) region.replaceChildren();
}

/** start() while `signedIn`, stop() otherwise: app.js calls it on every session change. */
export function follow(signedIn) {
  if (signedIn) start();
  else stop();
}
