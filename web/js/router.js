// History routing: every screen has a real path (/today, /signin …); the server answers
// index.html for any path that names no file (graph/web.py), so reloads and bookmarks work.
// A screen is a module exporting `mount(root, context)`, which may return an unmount
// function; screens are loaded when first visited, so adding one is one `route()` line.

const routes = new Map();
let root = null;
let options = null;
let unmount = null;
let rendering = 0;

/**
 * Registers a screen at `path`. `load` imports its module; `auth`: signed-in users only;
 * `guest`: signed-out users only (the sign-in page); `title`: the document title.
 */
export function route(path, load, { auth = true, guest = false, title = "" } = {}) {
  routes.set(path, { load, auth, guest, title });
}

/** Goes to `path` (a path with an optional query string) without reloading the page. */
export function navigate(path, { replace = false } = {}) {
  if (path !== location.pathname + location.search) {
    history[replace ? "replaceState" : "pushState"](null, "", path);
  }
  return render();
}

/** Re-renders the current path (the session changed). */
export function refresh() {
  return render();
}

async function render() {
  const ticket = ++rendering;
  const path = location.pathname.replace(/\/+$/, "") || "/";
  const signedIn = options.signedIn();
  if (path === "/") return navigate(signedIn ? options.home : options.signIn, { replace: true });
  const screen = routes.get(path);
  if (screen && screen.auth && !signedIn) {
    const next = encodeURIComponent(location.pathname + location.search);
    return navigate(`${options.signIn}?next=${next}`, { replace: true });
  }
  if (screen && screen.guest && signedIn) return navigate(options.home, { replace: true });
  const module = screen ? await screen.load() : null;
  if (ticket !== rendering) return undefined; // another navigation started meanwhile
  if (unmount) unmount();
  unmount = null;
  root.replaceChildren();
  document.title = screen && screen.title ? `${screen.title} · EngLog` : "EngLog";
  const context = { navigate, params: new URLSearchParams(location.search) };
  if (module) {
    unmount = module.mount(root, context) || null;
  } else {
    options.notFound(root, context);
  }
  options.rendered(path);
  if (!root.contains(document.activeElement)) {
    const heading = root.querySelector("h1");
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  }
  return undefined;
}

function sameOriginLink(event) {
  if (event.defaultPrevented || event.button !== 0) return null;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return null;
  const link = event.target.closest("a[href]");
  if (!link || link.target || link.hasAttribute("download")) return null;
  const url = new URL(link.href);
  if (url.origin !== location.origin || !routes.has(url.pathname)) return null;
  return url;
}

/**
 * Starts routing into `element`. `signedIn()` says whether there is a session; `home` and
 * `signIn` are the paths to send people to; `rendered(path)` runs after each screen.
 */
export function start(element, startOptions) {
  root = element;
  options = startOptions;
  window.addEventListener("popstate", () => render());
  document.addEventListener("click", (event) => {
    const url = sameOriginLink(event);
    if (url) {
      event.preventDefault();
      navigate(url.pathname + url.search);
    }
  });
  return render();
}
