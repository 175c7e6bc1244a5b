// Errors where they belong: a field named by the API's extensions.fields gets its message
// beside it (and aria-invalid); the rest goes in the form's alert. Nothing typed is cleared.

import { h } from "./dom.js";

/** The alert line at the top of a form. */
export function formAlert() {
  return h("p", { class: "form-error", role: "alert", hidden: true });
}

export function clearErrors(form) {
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  for (const message of form.querySelectorAll(".field-error")) {
    message.textContent = "";
    message.hidden = true;
  }
  const alert = form.querySelector(".form-error");
  if (alert) {
    alert.textContent = "";
    alert.hidden = true;
  }
}

/**
 * Shows `fields` (name → message) beside the controls whose data-field is that name, and
 * `summary` (or what no field took) in the alert; focuses the first invalid control.
 */
export function showErrors(form, { fields = {}, summary = "" } = {}) {
  clearErrors(form);
  const unplaced = [];
  let first = null;
  for (const [name, message] of Object.entries(fields)) {
    const control = form.querySelector(`[data-field="${CSS.escape(name)}"]:is(input, select, textarea)`);
    if (!control) {
      unplaced.push(`${name}: ${message}`);
      continue;
    }
    control.setAttribute("aria-invalid", "true");
    const error = document.getElementById(`${control.id}-error`);
    if (error) {
      error.textContent = message.charAt(0).toUpperCase() + message.slice(1);
      error.hidden = false;
    }
    first ??= control;
  }
  const text = [first && !unplaced.length ? "" : summary, ...unplaced].filter(Boolean).join(" ");
  const alert = form.querySelector(".form-error");
  if (alert && text) {
    alert.textContent = text;
    alert.hidden = false;
  }
  if (first) first.focus();
}

/** Shows an ApiError (or any error) on the form. */
export function showError(form, error) {
  showErrors(form, { fields: error.fields || {}, summary: error.summary || String(error.message || error) });
}

/** Disables the form's submit buttons while `work` runs; the inputs stay as typed. */
export async function busy(form, work) {
  const buttons = [...form.querySelectorAll("button[type=submit]")];
  for (const button of buttons) button.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    for (const button of buttons) button.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

/**
 * Handles the form's submit by script: the old errors cleared, `work` run with the submit
 * buttons disabled, and what it throws (an ApiError) shown at the fields it names.
 */
export function onSubmit(form, work) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    await busy(form, async () => {
      try {
        await work();
      } catch (error) {
        showError(form, error);
      }
    });
  });
}
