// Create an account; the browser's time zone is the account's to start with.

import * as api from "../api.js";
import { field, h } from "../dom.js";
import { busy, formAlert, showError } from "../forms.js";

export function mount(root, { navigate }) {
  const first = h("input", { type: "text", autocomplete: "given-name", required: true });
  const last = h("input", { type: "text", autocomplete: "family-name", required: true });
  const email = h("input", { type: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", autocomplete: "new-password", required: true });
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const form = h(
    "form",
    { class: "card auth", novalidate: true },
    h("h1", {}, "Create your account"),
    formAlert(),
    h("div", { class: "row" }, field("First name", first, { name: "firstName" }), field("Last name", last, { name: "lastName" })),
    field("E-mail", email, { name: "email" }),
    field("Password", password, { name: "password", hint: "At least 8 characters." }),
    h("p", { class: "hint" }, `Time zone: ${timezone} (change it later in settings).`),
    h("button", { type: "submit", class: "primary" }, "Create account"),
    h("p", {}, "Have an account? ", h("a", { href: "/signin" }, "Sign in"), "."),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(form, async () => {
      try {
        await api.signUp({
          firstName: first.value.trim(),
          lastName: last.value.trim(),
          email: email.value.trim(),
          password: password.value,
          timezone,
        });
        navigate("/today", { replace: true });
      } catch (error) {
        showError(form, error);
      }
    });
  });
  root.append(form);
  first.focus();
}
