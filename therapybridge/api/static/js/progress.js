// Live progress of one session: WebSocket first, Server-Sent Events when WebSockets do not get through
// (some proxies), polling as the last resort. A dropped connection reconnects with backoff and a
// fresh ticket; a connection that goes silent (no message, no ping) counts as dropped. Progress never
// goes backwards on screen.

import { auth, request } from "./api.js";
import { FINAL } from "./ui.js";

const SILENCE_MS = 45_000; // the server pings every 15 s by default
const POLL_MS = 2_000;

/**
 * watchProgress(sessionId, {onUpdate(msg), onFinal(msg), onConnection(state)}) → {close()}
 * msg: {session_id, status, progress, message, updated_at, estimated_time_remaining, error}
 * state: "connecting" | "live" | "reconnecting" | "polling"; `transport` says which: ws, sse, poll.
 */
export function watchProgress(sessionId, { onUpdate, onFinal, onConnection = () => {} }) {
  const forced = sessionStorage.getItem("tb.transport"); // "sse" | "poll": lets tests and users pick
  const order = forced === "sse" ? ["sse", "poll"] : forced === "poll" ? ["poll"] : ["ws", "sse", "poll"];
  let transportIndex = 0;
  let closed = false;
  let finished = false;
  let best = -1;
  let attempt = 0; // consecutive failures of the current transport
  let current = null; // {stop()}
  let silenceTimer = null;
  let retryTimer = null;

  const emit = (msg) => {
    if (closed || finished || !msg || !msg.status) return;
    const final = FINAL.has(msg.status);
    if (!final && msg.progress < best) msg = { ...msg, progress: best };
    best = Math.max(best, msg.progress ?? 0);
    onUpdate(msg);
    if (final) {
      finished = true;
      stopCurrent();
      onFinal(msg);
    }
  };

  const alive = () => {
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(() => dropped("silent"), SILENCE_MS);
  };

  function stopCurrent() {
    clearTimeout(silenceTimer);
    clearTimeout(retryTimer);
    if (current) current.stop();
    current = null;
  }

  function dropped(reason, { everConnected = true } = {}) {
    if (closed || finished) return;
    stopCurrent();
    attempt += 1;
    // A transport that never got through twice in a row: try the next one.
    if (!everConnected && attempt >= 2 && transportIndex < order.length - 1) {
      transportIndex += 1;
      attempt = 0;
    }
    const delay = Math.min(10_000, 500 * 2 ** Math.min(attempt, 5));
    onConnection("reconnecting", order[transportIndex], reason);
    retryTimer = setTimeout(connect, delay);
  }

  async function connect() {
    if (closed || finished) return;
    const kind = order[transportIndex];
    onConnection(kind === "poll" ? "polling" : "connecting", kind);
    if (kind === "poll") {
      current = startPolling();
      return;
    }
    let ticket;
    try {
      ticket = await auth.ticket(sessionId); // single use: every (re)connection asks for a new one
    } catch (err) {
      if (err && err.status === 401) onConnection("reconnecting", kind, "signed out");
      else dropped("refused", { everConnected: false });
      return;
    }
    if (closed || finished) return;
    if (kind === "ws") current = openWebSocket(ticket);
    else current = openEventSource(ticket);
  }

  function openWebSocket(ticket) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/sessions/ws/${encodeURIComponent(sessionId)}?ticket=${encodeURIComponent(ticket)}`);
    let opened = false;
    let gotMessage = false;
    ws.onopen = () => {
      opened = true;
      alive();
    };
    ws.onmessage = (event) => {
      alive();
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      if (msg.type === "ping") return;
      if (!gotMessage) {
        gotMessage = true;
        attempt = 0;
        onConnection("live", "ws");
      }
      emit(msg);
    };
    ws.onclose = (event) => {
      if (closed || finished) return;
      if (event.code === 1008) {
        // Policy violation: a bad token (a fresh one fixes it) or no such session (deleted).
        request("GET", `/api/sessions/${encodeURIComponent(sessionId)}`).then(
          () => dropped("refused", { everConnected: opened }),
          (err) => {
            if (err.status === 404) {
              closed = true;
              stopCurrent();
              onConnection("gone", "ws");
            } else dropped("refused", { everConnected: opened });
          },
        );
        return;
      }
      dropped("closed", { everConnected: gotMessage });
    };
    return { stop: () => ws.close(1000) };
  }

  function openEventSource(ticket) {
    const url = `/api/sessions/${encodeURIComponent(sessionId)}/status/stream?ticket=${encodeURIComponent(ticket)}`;
    const es = new EventSource(url);
    let gotMessage = false;
    const handle = (event) => {
      alive();
      if (!gotMessage) {
        gotMessage = true;
        attempt = 0;
        onConnection("live", "sse");
      }
      try {
        emit(JSON.parse(event.data));
      } catch {
        /* ignore a malformed event */
      }
    };
    es.addEventListener("progress", handle);
    es.addEventListener("complete", handle);
    es.addEventListener("failed", handle);
    es.onopen = alive;
    es.onerror = () => {
      // EventSource reconnects by itself while CONNECTING (with the spent ticket: 401); CLOSED means it
      // gave up: reconnect ourselves with a fresh ticket.
      if (es.readyState === EventSource.CLOSED) dropped("closed", { everConnected: gotMessage });
      else onConnection("reconnecting", "sse");
    };
    alive();
    return { stop: () => es.close() };
  }

  function startPolling() {
    let stop = false;
    let timer = null;
    const tick = async () => {
      if (stop) return;
      try {
        const doc = await request("GET", `/api/sessions/${encodeURIComponent(sessionId)}`);
        attempt = 0;
        onConnection("polling", "poll");
        emit({ session_id: doc.id, status: doc.status, progress: doc.progress, message: "", error: doc.error });
      } catch (err) {
        onConnection("reconnecting", "poll", err.message);
      }
      if (!stop && !finished) timer = setTimeout(tick, POLL_MS);
    };
    tick();
    return {
      stop: () => {
        stop = true;
        clearTimeout(timer);
      },
    };
  }

  // `window.dispatchEvent(new CustomEvent("tb:drop-connection", {detail: {next: "sse"}}))` drops the
  // live connection as a network failure would (optionally moving to another transport): the
  // end-to-end test uses it to check recovery; it is also handy when debugging a proxy.
  const onDrop = (e) => {
    const next = e.detail && order.indexOf(e.detail.next);
    if (next >= 0) transportIndex = next;
    attempt = 0;
    dropped("dropped");
  };
  window.addEventListener("tb:drop-connection", onDrop);

  const onOnline = () => {
    if (!finished && !closed) {
      attempt = 0;
      stopCurrent();
      connect();
    }
  };
  window.addEventListener("online", onOnline);

  connect();
  return {
    close() {
      closed = true;
      stopCurrent();
      window.removeEventListener("online", onOnline);
      window.removeEventListener("tb:drop-connection", onDrop);
    },
    get transport() {
      return order[transportIndex];
    },
  };
}
