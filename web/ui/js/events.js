// @ts-check
// One WebSocket client for live run events, with an explicit reconnect state machine.

/**
 * @typedef {"idle"|"connecting"|"authenticating"|"ready"|"waiting"|"closed"} LiveState
 * @typedef {"start"|"opened"|"authenticated"|"lost"|"retry"|"stop"} LiveEvent
 */

/**
 * The next state of the connection and what to do (pure; unit-tested).
 * `lost` from any live state waits and retries with a growing delay (1, 2, 4 … 30 s); `stop` ends it for good.
 * @param {LiveState} state
 * @param {LiveEvent} event
 * @param {number} attempt  reconnects so far
 * @returns {{state: LiveState, action: "connect"|"authenticate"|"resubscribe"|"wait"|"close"|"none", delayMs?: number}}
 */
export function transition(state, event, attempt) {
  if (event === "stop") return { state: "closed", action: state === "closed" ? "none" : "close" };
  if (state === "closed") return { state, action: "none" };
  switch (event) {
    case "start": return state === "idle" ? { state: "connecting", action: "connect" } : { state, action: "none" };
    case "opened": return state === "connecting" ? { state: "authenticating", action: "authenticate" } : { state, action: "none" };
    case "authenticated": return state === "authenticating" ? { state: "ready", action: "resubscribe" } : { state, action: "none" };
    case "lost": return { state: "waiting", action: "wait", delayMs: Math.min(30000, 1000 * 2 ** Math.min(attempt, 5)) };
    case "retry": return state === "waiting" ? { state: "connecting", action: "connect" } : { state, action: "none" };
  }
  return { state, action: "none" };
}

/** Live updates for runs: `subscribe({run: id}, onUpdate)`; reconnects and re-subscribes by itself. */
export class LiveEvents {
  /** @param {() => string|null} token */
  constructor(token) {
    this.token = token;
    /** @type {LiveState} */
    this.state = "idle";
    this.attempt = 0;
    /** @type {WebSocket|null} */
    this.socket = null;
    /** @type {Set<{filter: Record<string, unknown>, handler: (message: any) => void}>} */
    this.subscriptions = new Set();
  }

  /** @param {LiveEvent} event */
  send(event) {
    const next = transition(this.state, event, this.attempt);
    this.state = next.state;
    switch (next.action) {
      case "connect": this.connect(); break;
      case "authenticate": this.sendIfOpen({ type: "auth", token: this.token() }); break;
      case "resubscribe":
        this.attempt = 0;
        for (const s of this.subscriptions) this.sendIfOpen({ type: "subscribe", ...s.filter });
        break;
      case "wait": this.attempt++; setTimeout(() => this.send("retry"), next.delayMs); break;
      case "close": {
        const socket = this.socket;
        this.socket = null; // its close event is then not a loss to recover from
        socket?.close();
        break;
      }
    }
  }

  connect() {
    const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/events`);
    this.socket = socket;
    socket.onopen = () => this.send("opened");
    socket.onclose = () => {
      if (this.socket !== socket) return;
      // Subscribers learn of it (live editing holds its changes back until it has the working copy again).
      for (const s of this.subscriptions) s.handler({ type: "disconnected" });
      this.send("lost");
    };
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "ready") this.send("authenticated");
      for (const s of this.subscriptions) s.handler(data);
    };
  }

  /**
   * Sends a message on the live connection (a debug run's command); false when it is not connected.
   * @param {Record<string, unknown>} message
   */
  message(message) {
    if (this.state !== "ready" || !this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /**
   * Sends when the socket is open; a socket that is closing (the server ended it, the page is leaving) takes
   * nothing, and the reconnect subscribes again from `subscriptions`.
   * @param {Record<string, unknown>} message
   */
  sendIfOpen(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /**
   * @param {Record<string, unknown>} filter  `{run: id}`, `{pipeline: id}` or `{all: true}`
   * @param {(message: any) => void} handler  every message (snapshot, update, error)
   * @returns {() => void} unsubscribes
   */
  subscribe(filter, handler) {
    const entry = { filter, handler };
    this.subscriptions.add(entry);
    if (this.state === "idle") this.send("start");
    else if (this.state === "ready") this.sendIfOpen({ type: "subscribe", ...filter });
    return () => {
      this.subscriptions.delete(entry);
      if (this.state === "ready") this.sendIfOpen({ type: "unsubscribe", ...filter });
      if (this.subscriptions.size === 0) { this.send("stop"); this.state = "idle"; this.attempt = 0; }
    };
  }
}
