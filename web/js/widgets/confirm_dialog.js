// A modal confirmation (<dialog>): the browser keeps the focus inside it and Escape cancels;
// Cancel has the focus first, so Enter alone never destroys anything. The action runs in
// the dialog: an error stays there beside the buttons, to retry or cancel.

import { h, uid } from "../dom.js";

/**
 * Opens a dialog inside `host` asking `question` (with `detail` below it). `run()` does the
 * work when confirmed (an error is shown and the dialog stays open). Resolves true once
 * `run` succeeded, false when cancelled; the focus goes back to where it was, if it can.
 */
export function confirmDialog(host, { question, detail = "", confirmLabel = "Delete", run }) {
  const opener = document.activeElement;
  const heading = h("h2", { id: uid("dialog") }, question);
  const text = h("p", { id: uid("dialog"), class: "muted" }, detail);
  const message = h("p", { class: "form-error", role: "alert", hidden: true });
  const cancel = h("button", { type: "button" }, "Cancel");
  const confirm = h("button", { type: "button", class: "danger" }, confirmLabel);
  const dialog = h(
    "dialog",
    { class: "confirm-dialog", "aria-labelledby": heading.id, "aria-describedby": text.id },
    heading,
    text,
    message,
    h("div", { class: "actions" }, confirm, cancel),
  );

  return new Promise((resolve) => {
    let done = false;
    function finish(result) {
      if (done) return;
      done = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(result);
    }
    cancel.addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", (event) => {
      if (dialog.hasAttribute("aria-busy")) event.preventDefault(); // Escape waits for the work
    });
    dialog.addEventListener("close", () => finish(false)); // Escape, or the dialog was closed
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      cancel.disabled = true;
      dialog.setAttribute("aria-busy", "true");
      message.hidden = true;
      try {
        await run();
        finish(true);
      } catch (error) {
        message.textContent = error.summary || String(error.message || error);
        message.hidden = false;
        confirm.disabled = false;
        cancel.disabled = false;
        dialog.removeAttribute("aria-busy");
        confirm.focus();
      }
    });
    host.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
