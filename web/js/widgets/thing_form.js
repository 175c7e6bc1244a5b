// A form for one of the user's named things (a project, a tag): its fields described as data,
// errors at the fields the API names (name, color …), nothing typed lost on an error;
// Escape cancels an edit. A colour is an <input type=color> with a "No colour" box beside it.

import { field, h, select } from "../dom.js";
import { clearErrors, formAlert, onSubmit, showErrors } from "../forms.js";

const DEFAULT_COLOR = "#2457d6";

function colorControl(value) {
  const input = h("input", { type: "color", value: value || DEFAULT_COLOR, class: "color" });
  const none = h("input", { type: "checkbox", checked: !value, class: "select" });
  input.addEventListener("input", () => {
    none.checked = false;
  });
  const wrapper = h("div", { class: "color-control" }, input, h("label", { class: "no-color" }, none, h("span", {}, "No colour")));
  return { input, wrapper, value: () => (none.checked ? null : input.value.toLowerCase()), reset: () => { input.value = DEFAULT_COLOR; none.checked = true; } };
}

function control(spec, value) {
  if (spec.kind === "color") return colorControl(value);
  let input;
  if (spec.kind === "select") input = select(spec.options, value || spec.options[0][0]);
  else if (spec.kind === "textarea") {
    input = h("textarea", { rows: 2, maxLength: spec.maxLength });
    input.value = value || ""; // a textarea's text is its content, not an attribute
  }
  else input = h("input", { type: "text", maxLength: spec.maxLength, autocomplete: "off", value: value || "", required: Boolean(spec.required) });
  return {
    input,
    wrapper: input,
    value: () => (spec.kind === "select" ? input.value : input.value.trim() || null),
    reset: () => {
      input.value = spec.kind === "select" ? spec.options[0][0] : "";
    },
  };
}

/**
 * `fields`: [{ key, label, kind: "text" | "textarea" | "select" | "color", options, maxLength,
 * required, hint }]; the key is the API's input field (and the name its errors come under).
 * `onSave(values)` stores them (an ApiError thrown is shown at its fields).
 */
export function thingForm({ fields, values = {}, submitLabel, onSave, onCancel = null, label }) {
  const controls = new Map(fields.map((spec) => [spec.key, control(spec, values[spec.key])]));
  const form = h(
    "form",
    { class: onCancel ? "thing-form editing" : "thing-form", novalidate: true, "aria-label": label },
    formAlert(),
    h(
      "div",
      { class: "row" },
      fields.map((spec) => {
        const { input, wrapper } = controls.get(spec.key);
        return field(spec.label, input, { name: spec.key, element: wrapper, hint: spec.hint });
      }),
    ),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary" }, submitLabel),
      onCancel ? h("button", { type: "button", onclick: () => onCancel() }, "Cancel") : null,
    ),
  );

  function collect() {
    const data = Object.fromEntries([...controls].map(([key, item]) => [key, item.value()]));
    const missing = Object.fromEntries(fields.filter((spec) => spec.required && !data[spec.key]).map((spec) => [spec.key, `Give it a ${spec.label.toLowerCase()}.`]));
    if (Object.keys(missing).length) {
      showErrors(form, { fields: missing });
      return null;
    }
    return data;
  }

  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && onCancel) {
      event.preventDefault();
      onCancel();
    }
  });
  onSubmit(form, async () => {
    const data = collect(); // null: what is wrong is shown already
    if (data) await onSave(data);
  });

  return {
    form,
    focus: () => controls.get(fields[0].key).input.focus(),
    /** Empties the form for the next one. */
    clear() {
      for (const item of controls.values()) item.reset();
      clearErrors(form);
    },
  };
}

/** A colour swatch (set through the CSSOM: the content policy refuses style attributes). */
export function swatch(color) {
  const element = h("span", { class: color ? "swatch" : "swatch none", "aria-hidden": "true" });
  if (color) element.style.backgroundColor = color;
  return element;
}
