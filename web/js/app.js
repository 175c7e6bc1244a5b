// The shell: header, navigation, the session and the live connection's state; screens are
// registered here and live in js/screens/, one module each.

import * as api from "./api.js";
import { h, replace } from "./dom.js";
import * as live from "./live.js";
import * as router from "./router.js";
import * as notifications from "./widgets/notifications.js";

const HOME = "/today";
const SIGN_IN = "/signin";

router.route("/signin", () => import("./screens/signin.js"), { auth: false, guest: true, title: "Sign in" });
router.route("/signup", () => import("./screens/signup.js"), { auth: false, guest: true, title: "Sign up" });
router.route("/today", () => import("./screens/today.js"), { title: "Today" });
router.route("/entries", () => import("./screens/entries.js"), { title: "Entries" });
router.route("/dashboard", () => import("./screens/dashboard.js"), { title: "Dashboard" });
router.route("/insights", () => import("./screens/insights.js"), { title: "Insights" });
router.route("/projects", () => import("./screens/projects.js"), { title: "Projects and tags" });
router.route("/settings", () => import("./screens/settings.js"), { title: "Settings" });

// The main navigation, in this order (each screen's module in js/screens/).
const SCREENS = [
  ["/today", "Today"],
  ["/entries", "Entries"],
  ["/dashboard", "Dashboard"],
  ["/insights", "Insights"],
  ["/projects", "Projects & tags"],
  ["/settings", "Settings"],
];

const nav = document.getElementById("nav");
const account = document.getElementById("account");
const main = document.getElementById("main");
const connection = document.getElementById("connection");

function renderAccount(user) {
  connection.hidden = !user;
  if (!user) {
    replace(nav);
    replace(account);
    return;
  }
  replace(nav, ...SCREENS.map(([path, label]) => h("a", { href: path }, label)));
  markCurrent(location.pathname); // the menu was rebuilt: the current page keeps its mark
  const message = h("p", { class: "account-error", role: "alert", hidden: true });
  async function signOut(everywhere) {
    message.hidden = true;
    try {
      await api.signOut({ everywhere });
    } catch (error) {
      message.textContent = error.summary || String(error);
      message.hidden = false;
    }
  }
  replace(
    account,
    h("span", { class: "who" }, `${user.firstName} ${user.lastName}`.trim() || user.email),
    h("button", { type: "button", class: "link", onclick: () => signOut(false) }, "Sign out"),
    h(
      "button",
      { type: "button", class: "link", onclick: () => signOut(true), title: "Ends every session of this account, here and on other devices" },
      "Sign out everywhere",
    ),
    message,
  );
}

function markCurrent(path) {
  for (const link of nav.querySelectorAll("a")) {
    if (new URL(link.href).pathname === path) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function notFound(root) {
  root.append(
    h("h1", {}, "Not found"),
    h("p", {}, "There is no page here. ", h("a", { href: HOME }, "Go to today"), "."),
  );
}

live.onStatus((state) => {
  connection.dataset.state = state;
  connection.textContent = { online: "Live", connecting: "Connecting…", offline: "Offline" }[state];
});

let signedIn = null;
api.onSession((user) => {
  renderAccount(user);
  const now = user !== null;
  const ended = signedIn === true && !now;
  signedIn = now;
  notifications.follow(now); // reminders as toasts on every screen while signed in
  if (ended) {
    live.close();
    router.refresh(); // the guard sends the signed-out user to the sign-in page
  }
});

async function boot() {
  try {
    await api.restore();
  } catch (error) {
    main.prepend(h("p", { class: "banner", role: "alert" }, error.summary || String(error)));
  }
  signedIn = api.user() !== null;
  renderAccount(api.user());
  await router.start(main, {
    signedIn: () => api.user() !== null,
    home: HOME,
    signIn: SIGN_IN,
    notFound,
    rendered: markCurrent,
  });
}

boot();
