// The one way the app talks to /graphql over HTTP: the access token in memory only (never in
// storage), the refresh token an HttpOnly cookie the server sets and script never sees.
// Every request is POSTed as application/json: the server refuses cookie-bearing requests of
// the "simple" kinds a cross-site form could send (CSRF).

const ENDPOINT = "/graphql";
const REFRESH_MARGIN_MS = 30_000; // a token this close to expiry is refreshed before use

const USER = "id email firstName lastName timezone";
const SESSION = `accessToken expiresIn user { ${USER} }`;

let accessToken = null;
let expiresAt = 0;
let currentUser = null;
let refreshing = null;
const listeners = new Set();
// Tabs of this browser share the cookie: one signing out tells the others.
const tabs = "BroadcastChannel" in window ? new BroadcastChannel("englog-auth") : null;

/** A GraphQL error as the app shows it: its code, a field → message map, the retry time. */
export class ApiError extends Error {
  constructor(message, { code = "ERROR", fields = {}, retryAfter = null, status = 0 } = {}) {
    super(message);
    this.code = code;
    this.fields = fields;
    this.retryAfter = retryAfter;
    this.status = status;
  }

  /** The text to show at the top of a form (field messages go beside their fields). */
  get summary() {
    if (this.code === "RATE_LIMITED" && this.retryAfter) {
      const wait = this.retryAfter <= 90 ? `${this.retryAfter} s` : `${Math.ceil(this.retryAfter / 60)} min`;
      return `Too many requests: try again in ${wait}.`;
    }
    return this.message;
  }
}

function fromErrors(errors, status) {
  const [first] = errors;
  const fields = {};
  let retryAfter = null;
  for (const error of errors) {
    const extensions = error.extensions || {};
    for (const [name, message] of Object.entries(extensions.fields || {})) {
      // "input.title" and "title" both name the form's title field.
      fields[name.replace(/^inputs?\.(\d+\.)?/, "")] ??= message;
    }
    retryAfter ??= extensions.retryAfter ?? null;
  }
  const code = (first.extensions && first.extensions.code) || "ERROR";
  return new ApiError(first.message, { code, fields, retryAfter, status });
}

async function post(query, variables, token) {
  const headers = {
    "Content-Type": "application/json",
    Accept: "application/graphql-response+json, application/json",
  };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError("The server cannot be reached: check the connection and try again.", {
      code: "NETWORK",
    });
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered ${response.status} without a GraphQL answer.`, {
      code: "HTTP",
      status: response.status,
    });
  }
  if (body.errors && body.errors.length) {
    const error = fromErrors(body.errors, response.status);
    const header = Number(response.headers.get("retry-after"));
    if (error.code === "RATE_LIMITED" && !error.retryAfter && header) error.retryAfter = header;
    throw error;
  }
  return body.data;
}

function setSession(payload) {
  const wasSignedIn = currentUser !== null;
  accessToken = payload ? payload.accessToken : null;
  expiresAt = payload ? Date.now() + payload.expiresIn * 1000 : 0;
  currentUser = payload ? payload.user : null;
  if (wasSignedIn !== (currentUser !== null) || payload) {
    for (const listener of listeners) listener(currentUser);
  }
}

/** Calls `listener(user or null)` whenever the session starts, renews or ends. */
export function onSession(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function user() {
  return currentUser;
}

/**
 * A new access token from the refresh cookie (one request however many callers ask at once).
 * A refusal ends the session (the listeners hear null); a network failure does not.
 */
export function refresh() {
  refreshing ??= post(`mutation Refresh { refreshToken(refreshCookie: true) { ${SESSION} } }`, {}, null)
    .then((data) => {
      setSession(data.refreshToken);
      return accessToken;
    })
    .catch((error) => {
      if (error.code !== "NETWORK") setSession(null);
      throw error;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** The access token, refreshed first when it is missing or about to expire. */
export async function token() {
  if (accessToken && expiresAt - Date.now() > REFRESH_MARGIN_MS) return accessToken;
  return refresh();
}

/**
 * Runs an operation as the signed-in user. An UNAUTHENTICATED answer (the token expired or
 * was revoked) is refreshed once and replayed; when the refresh fails, the session ends.
 */
export async function request(query, variables = {}) {
  const first = await token();
  try {
    return await post(query, variables, first);
  } catch (error) {
    if (error.code !== "UNAUTHENTICATED") throw error;
    return post(query, variables, await refresh());
  }
}

/** On load: a session from the refresh cookie, or null (signed out). */
export async function restore() {
  try {
    await refresh();
  } catch (error) {
    if (error.code === "NETWORK") throw error;
  }
  return currentUser;
}

export async function signIn(email, password) {
  const data = await post(
    `mutation LogIn($email: String!, $password: String!) {
      logIn(email: $email, password: $password, refreshCookie: true) { ${SESSION} }
    }`,
    { email, password },
    null,
  );
  setSession(data.logIn);
  return currentUser;
}

export async function signUp(input) {
  const data = await post(
    `mutation SignUp($input: SignUpInput!) {
      signUp(input: $input, refreshCookie: true) { ${SESSION} }
    }`,
    { input },
    null,
  );
  setSession(data.signUp);
  return currentUser;
}

/**
 * Signs out this browser (the server ends the session and clears the cookie), or with
 * `everywhere` every other session of the account first.
 */
export async function signOut({ everywhere = false } = {}) {
  // A failure here leaves this browser signed in, so the user can try again.
  if (everywhere) await request("mutation EndOthers { endOtherSessions }");
  try {
    await post("mutation LogOut { logOut }", {}, accessToken);
  } finally {
    setSession(null);
    if (tabs) tabs.postMessage("signed-out");
  }
}

if (tabs) {
  tabs.onmessage = (message) => {
    if (message.data === "signed-out" && currentUser) setSession(null);
  };
}
