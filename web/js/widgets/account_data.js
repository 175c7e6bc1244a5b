// The account's data: download all of it (GET /export, the streamed englog-export/1
// document, saved as a JSON file from a Blob: no new window), and delete the account behind
// a confirmation dialog that asks for the password.

import * as api from "../api.js";
import { field, h } from "../dom.js";
import { clearErrors, formAlert, onSubmit } from "../forms.js";

const EXPORT_PATH = "/export"; // graph/export.py

async function exportResponse(token) {
  try {
    return await fetch(EXPORT_PATH, { headers: { Authorization: `Bearer ${token}` }, credentials: "same-origin", cache: "no-store" });
  } catch {
    throw new api.ApiError("The server cannot be reached: check the connection and try again.", { code: "NETWORK" });
  }
}

/** A refusal of /export (a GraphQL-shaped error body) as an ApiError. */
async function refusal(response) {
  let first = null;
  try {
    first = (await response.json()).errors[0];
  } catch {
    // not JSON: the status says it
  }
  const extensions = (first && first.extensions) || {};
  const header = Number(response.headers.get("retry-after"));
  return new api.ApiError(first ? first.message : `The export failed (HTTP ${response.status}).`, {
    code: extensions.code || "HTTP",
    retryAfter: extensions.retryAfter ?? (header || null),
    status: response.status,
  });
}

function filenameOf(response) {
  const match = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "");
  return match ? match[1] : "englog-export.json";
}

/** Downloads the export: a token that expired meanwhile is refreshed once. */
export async function downloadExport() {
  let response = await exportResponse(await api.token());
  if (response.status === 401) response = await exportResponse(await api.refresh());
  if (!response.ok) throw await refusal(response);
  const blob = new Blob([await response.blob()], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filenameOf(response), hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The account's login, hidden, so a password manager knows whose password a form holds. */
export function loginName() {
  return h("input", { type: "email", autocomplete: "username", hidden: true, readOnly: true, tabIndex: -1, value: api.user()?.email || "" });
}

/** The "Delete my account" button and its dialog; `onDeleted()` runs once it is gone. */
export function deleteAccountButton({ onDeleted }) {
  const password = h("input", { type: "password", autocomplete: "current-password", required: true });
  const cancel = h("button", { type: "button", onclick: () => dialog.close() }, "Cancel");
  const form = h(
    "form",
    { class: "confirm-delete", novalidate: true },
    h("h2", { id: "delete-heading" }, "Delete your account?"),
    loginName(),
    h("p", {}, "Everything goes, at once and for good: entries, projects, tags, insights and sessions. Download your data first to keep a copy."),
    formAlert(),
    field("Your password", password, { name: "password" }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "danger" }, "Delete my account for good"), cancel),
  );
  const dialog = h("dialog", { class: "card", "aria-labelledby": "delete-heading" }, form);
  dialog.addEventListener("close", () => {
    password.value = "";
    clearErrors(form);
  });
  onSubmit(form, async () => {
    await api.request("mutation DeleteAccount($password: String!) { deleteAccount(password: $password) }", { password: password.value });
    dialog.close();
    await onDeleted();
  });
  const open = h(
    "button",
    {
      type: "button",
      class: "danger",
      onclick: () => {
        dialog.showModal();
        password.focus();
      },
    },
    "Delete my account…",
  );
  return h("div", { class: "delete-account" }, open, dialog);
}
