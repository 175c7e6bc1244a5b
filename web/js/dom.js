// Building the page from nodes, never from HTML strings: every text the API returns goes in as a text node,
// so a title like "<img onerror=…>" is shown, never parsed.

/** An element: h("button", {type: "button", onclick: f, class: "x"}, "text", child, …). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name in element && typeof value !== "string") {
      element[name] = value; // value, checked, disabled …
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

let ids = 0;
/** A fresh id for label/for and aria-describedby pairs. */
export function uid(prefix = "f") {
  ids += 1;
  return `${prefix}-${ids}`;
}

/**
 * A labelled field: label, control (or `element`, which holds it), and the place its error
 * is shown; `name` is the API's field name (extensions.fields) the error comes under.
 */
export function field(label, control, { hint, name, element = control } = {}) {
  control.id ||= uid(name || "field");
  const error = h("p", { class: "field-error", id: `${control.id}-error`, hidden: true });
  const described = [error.id];
  let hintElement = null;
  if (hint) {
    hintElement = h("p", { class: "hint", id: `${control.id}-hint` }, hint);
    described.unshift(hintElement.id);
  }
  control.setAttribute("aria-describedby", described.join(" "));
  if (name) control.dataset.field = name;
  return h(
    "div",
    { class: "field", dataset: { field: name || "" } },
    h("label", { for: control.id }, label),
    element,
    hintElement,
    error,
  );
}

/** <select> of `options` ([value, label] pairs). */
export function select(options, value, attributes = {}) {
  return h(
    "select",
    attributes,
    options.map(([optionValue, label]) =>
      h("option", { value: optionValue, selected: optionValue === value }, label),
    ),
  );
}

/** A status line for the screen (role=status, read out by screen readers). */
export function statusLine() {
  return h("p", { class: "status", role: "status", "aria-live": "polite" });
}
