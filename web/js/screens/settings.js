// Settings: the profile (name, time zone, e-mail confirmed with the password), the sessions
// of the account, what EngLog does on its own (preferences), the password, and the
// account's data (download it, delete the account). On load: one query.

import * as api from "../api.js";
import { field, h, select, statusLine, uid } from "../dom.js";
import { formAlert, onSubmit } from "../forms.js";
import { deleteAccountButton, downloadExport, loginName } from "../widgets/account_data.js";
import { SESSIONS, sessionsList } from "../widgets/sessions_list.js";

const PREFERENCES = "preferences { weeklyReport dailySummaryTime reminderTime email }";
const USER = `id email firstName lastName timezone ${PREFERENCES}`;
const SETTINGS = `query Settings { me { ${USER} } ${SESSIONS} }`;

function timeZones(current) {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  // The account's own zone is offered even when this browser calls it by another name.
  const all = zones.includes(current) ? zones : [current, ...zones];
  return all.map((zone) => [zone, zone.replace(/_/g, " ")]);
}

/** A checkbox with its label beside it, and the place its error is shown. */
function checkbox(text, name, hint) {
  const input = h("input", { type: "checkbox", id: uid(name), dataset: { field: name } });
  const error = h("p", { class: "field-error", id: `${input.id}-error`, hidden: true });
  const hintElement = h("p", { class: "hint", id: `${input.id}-hint` }, hint);
  input.setAttribute("aria-describedby", `${hintElement.id} ${error.id}`);
  const element = h("div", { class: "check", dataset: { field: name } }, input, h("div", {}, h("label", { for: input.id }, text), hintElement, error));
  return { input, element };
}

/** A form with its heading, alert and a status line of its own (what was saved). */
function section(id, title, ...children) {
  return h("section", { class: "card settings-section", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

function submitting(form, status, work) {
  onSubmit(form, async () => {
    status.textContent = "";
    status.textContent = (await work()) || "";
  });
}

function profileForm(me) {
  const firstName = h("input", { type: "text", autocomplete: "given-name", maxLength: 100, required: true, value: me.firstName });
  const lastName = h("input", { type: "text", autocomplete: "family-name", maxLength: 100, required: true, value: me.lastName });
  const timezone = select(timeZones(me.timezone), me.timezone);
  const email = h("input", { type: "email", autocomplete: "username", required: true, value: me.email });
  const currentPassword = h("input", { type: "password", autocomplete: "current-password" });
  const status = statusLine();
  const form = h(
    "form",
    { class: "settings-form", novalidate: true },
    formAlert(),
    h("div", { class: "row" }, field("First name", firstName, { name: "firstName" }), field("Last name", lastName, { name: "lastName" })),
    field("Time zone", timezone, { name: "timezone", hint: "Your days, weeks and reminders are counted in it." }),
    h("div", { class: "row" }, field("E-mail", email, { name: "email" }), field("Current password", currentPassword, { name: "currentPassword", hint: "Needed only to change the e-mail." })),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save profile")),
    status,
  );
  let saved = me;
  submitting(form, status, async () => {
    const input = { firstName: firstName.value.trim(), lastName: lastName.value.trim(), timezone: timezone.value };
    const newEmail = email.value.trim();
    if (newEmail.toLowerCase() !== saved.email.toLowerCase()) {
      input.email = newEmail;
      input.currentPassword = currentPassword.value;
    }
    const data = await api.request(`mutation UpdateProfile($input: UpdateProfileInput!) { updateProfile(input: $input) { ${USER} } }`, { input });
    saved = data.updateProfile;
    email.value = saved.email;
    currentPassword.value = "";
    // The header's name and the dashboard's days come with the session: renew it.
    await api.refresh().catch(() => {});
    return "Profile saved.";
  });
  return form;
}

function preferencesForm(me) {
  const weekly = checkbox("Weekly report", "weeklyReport", "Every Monday at 09:00, a report on the week before (when you logged anything).");
  const email = checkbox("E-mail notifications", "email", "Also send finished insights and reminders by e-mail.");
  const dailySummaryTime = h("input", { type: "time" });
  const reminderTime = h("input", { type: "time" });
  const status = statusLine();
  function fill(preferences) {
    weekly.input.checked = preferences.weeklyReport;
    email.input.checked = preferences.email;
    dailySummaryTime.value = preferences.dailySummaryTime || "";
    reminderTime.value = preferences.reminderTime || "";
  }
  fill(me.preferences);
  const form = h(
    "form",
    { class: "settings-form", novalidate: true },
    formAlert(),
    weekly.element,
    h(
      "div",
      { class: "row" },
      field("Daily summary at", dailySummaryTime, { name: "dailySummaryTime", hint: "Empty: no daily summary." }),
      field("Reminder at", reminderTime, { name: "reminderTime", hint: "On days with nothing logged. Empty: never." }),
    ),
    email.element,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save preferences")),
    status,
  );
  submitting(form, status, async () => {
    const input = {
      weeklyReport: weekly.input.checked,
      email: email.input.checked,
      dailySummaryTime: dailySummaryTime.value || null,
      reminderTime: reminderTime.value || null,
    };
    const data = await api.request(`mutation UpdatePreferences($input: UpdatePreferencesInput!) { updatePreferences(input: $input) { ${PREFERENCES} } }`, { input });
    fill(data.updatePreferences.preferences);
    return "Preferences saved.";
  });
  return form;
}

function passwordForm(onChanged) {
  const currentPassword = h("input", { type: "password", autocomplete: "current-password", required: true });
  const newPassword = h("input", { type: "password", autocomplete: "new-password", required: true, minLength: 8 });
  const status = statusLine();
  const form = h(
    "form",
    { class: "settings-form", novalidate: true },
    loginName(),
    formAlert(),
    h("div", { class: "row" }, field("Current password", currentPassword, { name: "currentPassword" }), field("New password", newPassword, { name: "newPassword", hint: "At least 8 characters. Your other sessions end; this one goes on." })),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Change password")),
    status,
  );
  submitting(form, status, async () => {
    const data = await api.request("mutation ChangePassword($input: ChangePasswordInput!) { changePassword(input: $input) }", {
      input: { currentPassword: currentPassword.value, newPassword: newPassword.value },
    });
    currentPassword.value = "";
    newPassword.value = "";
    await onChanged();
    const ended = data.changePassword;
    if (!ended) return "Password changed.";
    return `Password changed. ${ended === 1 ? "1 other session was" : `${ended} other sessions were`} signed out.`;
  });
  return form;
}

export function mount(root, { navigate }) {
  const status = statusLine();
  status.classList.add("settings-page-status");
  const content = h("div", { class: "settings" });
  let timeZone = (api.user() && api.user().timezone) || "UTC";
  let mounted = true;
  const say = (text) => {
    if (mounted) status.textContent = text;
  };

  root.append(h("header", { class: "screen-header" }, h("h1", {}, "Settings")), status, content);

  function render(me, sessions) {
    timeZone = me.timezone;
    const list = sessionsList({ timeZone: () => api.user()?.timezone || timeZone, say });
    list.show(sessions);
    const exportStatus = statusLine();
    const exportButton = h("button", { type: "button" }, "Download my data (JSON)");
    exportButton.addEventListener("click", async () => {
      exportButton.disabled = true;
      exportStatus.textContent = "Preparing the download…";
      try {
        await downloadExport();
        exportStatus.textContent = "Downloaded.";
      } catch (error) {
        exportStatus.textContent = error.summary || String(error);
      } finally {
        exportButton.disabled = false;
      }
    });
    const remove = deleteAccountButton({
      onDeleted: async () => {
        // The account and its sessions are gone: forget this one too (the cookie is cleared).
        await api.signOut().catch(() => {});
        navigate("/signin", { replace: true });
      },
    });
    content.append(
      section("profile-heading", "Profile", profileForm(me)),
      section("sessions-heading", "Sessions", h("p", { class: "muted" }, "Where your account is signed in."), list.element),
      section("preferences-heading", "Preferences", preferencesForm(me)),
      section("password-heading", "Password", passwordForm(() => list.reload())),
      section(
        "data-heading",
        "Your data",
        h("p", {}, "Everything stored about you (account, projects, tags, entries, insights, sessions) as one JSON document."),
        h("div", { class: "actions" }, exportButton),
        exportStatus,
        h("h3", {}, "Delete the account"),
        h("p", { class: "muted" }, "Deletes the account and everything in it, for good."),
        remove,
      ),
    );
  }

  api
    .request(SETTINGS)
    .then((data) => {
      if (mounted) render(data.me, data.sessions);
    })
    .catch((error) => say(error.summary || String(error)));

  return () => {
    mounted = false;
  };
}
