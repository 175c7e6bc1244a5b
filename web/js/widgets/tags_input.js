// A comma-separated tags field with completion from the user's tags (an ARIA combobox):
// type to filter, ArrowDown/ArrowUp to choose, Enter or Tab to take the chosen one, Escape
// to close. Enter with nothing chosen is left to the form (it saves).

import { h, uid } from "../dom.js";

const SHOWN = 8;

/** The input (put it in a `field()`) and its list; `known()` gives the tag names to offer. */
export function tagsInput(known, attributes = {}) {
  const listbox = h("ul", { class: "suggestions", role: "listbox", id: uid("tags-list"), hidden: true });
  const input = h("input", {
    type: "text",
    role: "combobox",
    autocomplete: "off",
    spellcheck: false,
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": listbox.id,
    ...attributes,
  });
  let options = [];
  let active = -1;

  function current() {
    const text = input.value;
    const start = text.lastIndexOf(",") + 1;
    return { start, token: text.slice(start).trim().toLowerCase() };
  }

  function close() {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    active = index;
    for (const [i, option] of [...listbox.children].entries()) {
      option.setAttribute("aria-selected", String(i === index));
    }
    if (index >= 0) input.setAttribute("aria-activedescendant", listbox.children[index].id);
    else input.removeAttribute("aria-activedescendant");
  }

  function take(name) {
    const { start } = current();
    const before = input.value.slice(0, start).trimEnd();
    input.value = `${before ? `${before} ` : ""}${name}, `;
    close();
    input.focus();
  }

  function open() {
    const { token } = current();
    const chosen = new Set(input.value.split(",").map((part) => part.trim().toLowerCase()));
    options = token
      ? known()
          .filter((name) => name.toLowerCase().includes(token) && !chosen.has(name.toLowerCase()))
          .sort((a, b) => Number(!a.toLowerCase().startsWith(token)) - Number(!b.toLowerCase().startsWith(token)))
          .slice(0, SHOWN)
      : [];
    if (!options.length) return close();
    listbox.replaceChildren(
      ...options.map((name) =>
        h(
          "li",
          {
            role: "option",
            id: uid("tag-option"),
            "aria-selected": "false",
            onmousedown: (event) => {
              event.preventDefault(); // keeps the focus in the input
              take(name);
            },
          },
          name,
        ),
      ),
    );
    listbox.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(-1);
    return undefined;
  }

  input.addEventListener("input", open);
  input.addEventListener("blur", close);
  input.addEventListener("keydown", (event) => {
    if (listbox.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const last = options.length - 1;
      if (event.key === "ArrowDown") highlight(active >= last ? 0 : active + 1);
      else highlight(active <= 0 ? last : active - 1);
    } else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
      event.preventDefault();
      event.stopPropagation();
      take(options[active]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });
  const wrapper = h("div", { class: "combobox" }, input, listbox);
  return { input, listbox, wrapper };
}
