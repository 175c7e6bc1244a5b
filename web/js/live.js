// One graphql-ws client for the whole app, and feeds that resume where they left off.
//
// A feed keeps the cursor of the last event it delivered. graphql-ws re-sends a subscription's
// payload object as it is when the socket reconnects, so the feed writes each new cursor into
// that object's `since`: a reconnect (a server restart, a network change) asks for exactly
// what came after, and the feed also drops any event whose cursor it has already seen.

import { createClient } from "../vendor/graphql-ws/client.js";
import * as api from "./api.js";

const RETRY_FIRST_MS = 500;
const RETRY_LONGEST_MS = 15_000;
const SEEN_CURSORS = 500;

const FORBIDDEN = 4403; // graph/live/close_codes.py: a bad, expired or revoked token

let client = null;
let refused = false;
const statusListeners = new Set();
const connectedListeners = new Set(); // feeds, told when the socket is (re)connected
let status = "offline";

function setStatus(next) {
  status = next;
  for (const listener of statusListeners) listener(next);
}

/** Calls `listener("connecting" | "online" | "offline")` as the socket comes and goes. */
export function onStatus(listener) {
  statusListeners.add(listener);
  listener(status);
  return () => statusListeners.delete(listener);
}

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/graphql`;
}

function liveClient() {
  client ??= createClient({
    url: socketUrl(),
    // Asked afresh on every (re)connection: a token that expired meanwhile is refreshed, and
    // after a 4403 (the server found the token expired or revoked) a new one is asked for
    // whatever its age: a refusal then ends the session (the app shows the sign-in page).
    connectionParams: async () => {
      const fresh = refused ? await api.refresh() : await api.token();
      refused = false;
      return { authorization: `Bearer ${fresh}` };
    },
    lazy: true,
    keepAlive: 20_000,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: async (retries) => {
      const wait = Math.min(RETRY_LONGEST_MS, RETRY_FIRST_MS * 2 ** retries);
      await new Promise((resolve) => setTimeout(resolve, wait * (0.5 + Math.random() / 2)));
    },
    on: {
      connecting: () => setStatus("connecting"),
      connected: () => {
        setStatus("online");
        for (const listener of connectedListeners) listener();
      },
      closed: (event) => {
        if (event && event.code === FORBIDDEN) refused = true;
        setStatus("offline");
      },
    },
  });
  return client;
}

/** Closes the socket (signing out): the next feed opens a new one with the new user's token. */
export function close() {
  if (client) {
    client.dispose();
    client = null;
  }
  setStatus("offline");
}

/**
 * Subscribes to `field` of `query` (a subscription taking `$since: String`), calling
 * `onEvent(event)` once per event, in order, across reconnects. Returns a function that stops.
 * A feed that has had no event yet has no cursor to resume from: when its socket comes back
 * after a drop, what changed meanwhile cannot be replayed, so `onResync()` is called and the
 * screen reads its data again.
 */
export function feed(query, field, onEvent, { since = null, onResync = null } = {}) {
  const payload = { query, variables: { since } };
  const seen = new Set();
  let stopped = false;
  let unsubscribe = null;
  let retries = 0;
  let dropped = false;
  const offStatus = onStatus((state) => {
    if (state === "offline") dropped = true;
  });
  const resync = () => {
    if (dropped && payload.variables.since === null && onResync && !stopped) onResync();
    dropped = false;
  };
  connectedListeners.add(resync);
  dropped = false; // the status it was told at once is not a drop

  function deliver(result) {
    if (result.errors && result.errors.length) return; // reported by `error` below
    const event = result.data && result.data[field];
    if (!event) return;
    retries = 0;
    if (seen.has(event.cursor)) return;
    seen.add(event.cursor);
    if (seen.size > SEEN_CURSORS) seen.delete(seen.values().next().value);
    payload.variables.since = event.cursor;
    onEvent(event);
  }

  function start() {
    if (stopped) return;
    unsubscribe = liveClient().subscribe(payload, {
      next: deliver,
      complete: () => {},
      error: (error) => {
        // A GraphQL error on `since` (a cursor the server no longer accepts): start afresh.
        const errors = Array.isArray(error) ? error : [];
        if (errors.some((item) => item.extensions && item.extensions.fields && item.extensions.fields.since)) {
          payload.variables.since = null;
        }
        // A closed socket the client would not retry (an expired token, 4401/4403): again,
        // after a wait, with a fresh token from connectionParams.
        retries += 1;
        const wait = Math.min(RETRY_LONGEST_MS, RETRY_FIRST_MS * 2 ** retries);
        setTimeout(start, wait);
      },
    });
  }

  start();
  return () => {
    stopped = true;
    offStatus();
    connectedListeners.delete(resync);
    if (unsubscribe) unsubscribe();
  };
}

/** One operation without a `since` cursor (insightProgress) on the same socket; graphql-ws's sink; returns the stop. */
export const subscribe = (payload, sink) => liveClient().subscribe(payload, sink);
