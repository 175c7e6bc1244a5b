// Sign in with e-mail and password; the server sets the refresh cookie.

import * as api from "../api.js";
import { field, h } from "../dom.js";
import { busy, formAlert, showError } from "../forms.js";

/** Where to go after signing in: the page that sent the user here, if it is one of ours. */
export function nextPath(params) {
  const next = params.get("next") || "";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/today";
}

export function mount(root, { navigate, params }) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const form = h(
    "form",
    { class: "card auth", novalidate: true },
    h("h1", {}, "Sign in"),
    formAlert(),
    field("E-mail", email, { name: "email" }),
    field("Password", password, { name: "password" }),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    h("p", {}, "New here? ", h("a", { href: "/signup" }, "Create an account"), "."),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(form, async () => {
      try {
        await api.signIn(email.value.trim(), password.value);
        navigate(nextPath(params), { replace: true });
      } catch (error) {
        showError(form, error);
      }
    });
  });
  root.append(form);
  email.focus();
}
