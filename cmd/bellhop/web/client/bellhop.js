// bellhop.js: the JavaScript client of bellhop's hotel endpoint. A plain ES
// module with no dependencies: it runs in browsers and in Node (pass a
// WebSocket class, e.g. from the "ws" package, where there is no global one).
//
//   import { BellhopClient } from "./bellhop.js";
//   const c = new BellhopClient("wss://rt.hotel.example/ws", { getToken: () => fetchToken() });
//   c.on("ROOM_STATUS_UPDATE", (room) => paint(room));
//   c.on("resync", ({ namespace, snapshot }) => reload(namespace, snapshot));
//   await c.connect();
//   await c.subscribe("rooms");
//   await c.updateRoom("101", "CLEANED");
//
// It reconnects with exponential backoff and full jitter, authenticates with
// an AUTH event (the token never sits in a URL), resubscribes every
// namespace with the last messageId it saw ("since"), and tells the app when
// the server could not resume exactly ("resync"), so it reloads its view.

/** Connection states, in the order a connection goes through them. */
export const State = Object.freeze({
  IDLE: "idle",
  CONNECTING: "connecting",
  OPEN: "open",
  RECONNECTING: "reconnecting",
  CLOSED: "closed",
});

/** Close codes the server uses (see the README). */
export const Close = Object.freeze({
  GOING_AWAY: 1001,
  AUTH_REQUIRED: 4001,
  TOKEN_EXPIRED: 4002,
  REVOKED: 4003,
  SLOW_CONSUMER: 4008,
  TOO_FAST: 4029,
});

/** Backoff defaults: first retry within 0.5 s, at most 30 s apart. */
export const defaultBackoff = Object.freeze({ initial: 500, max: 30000, factor: 2 });

/**
 * backoffDelay is the wait before reconnect attempt n (0 for the first):
 * "full jitter", a uniform draw between 0 and min(max, initial * factor^n),
 * so that clients dropped together do not come back together.
 */
export function backoffDelay(attempt, backoff = defaultBackoff, random = Math.random) {
  const cap = Math.min(backoff.max, backoff.initial * Math.pow(backoff.factor, Math.max(0, attempt)));
  return Math.floor(random() * cap);
}

/** BellhopError is an ERROR answer of the server, or a local failure. */
export class BellhopError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "BellhopError";
    this.code = code;
  }
}

let corrSeq = 0;
function correlationId() {
  corrSeq = (corrSeq + 1) % 1e9;
  return "c" + Date.now().toString(36) + "-" + corrSeq.toString(36);
}

/**
 * BellhopClient is one logical connection to a node: it survives the
 * socket's drops. Options:
 *   token       a token (string), or
 *   getToken    async () => token, called on each (re)connect and on expiry
 *   WebSocket   the WebSocket class (default: globalThis.WebSocket)
 *   protocols   subprotocols to offer (default ["bellhop.v1"])
 *   backoff     {initial, max, factor} in ms
 *   callTimeout ms an event waits for its ACK (default 10000)
 *   random, setTimeout, clearTimeout: injectable for tests
 */
export class BellhopClient {
  constructor(url, opts = {}) {
    this.url = url;
    this.opts = {
      protocols: ["bellhop.v1"],
      backoff: defaultBackoff,
      callTimeout: 10000,
      random: Math.random,
      setTimeout: (f, ms) => setTimeout(f, ms),
      clearTimeout: (t) => clearTimeout(t),
      ...opts,
    };
    this.WS = this.opts.WebSocket || globalThis.WebSocket;
    if (!this.WS) throw new BellhopError("NO_WEBSOCKET", "no WebSocket class: pass opts.WebSocket");
    this.state = State.IDLE;
    this.identity = null; // AUTHENTICATED payload
    this.attempt = 0; // reconnect attempts since the last successful authentication
    this.subs = new Map(); // namespace -> { since, active }
    this.pending = new Map(); // correlationId -> { resolve, reject, timer }
    this.handlers = new Map(); // event -> Set of functions
    this.ws = null;
    this.timer = null; // the pending reconnect
    this.retries = new Set(); // pending resubscription retries
    this.stopped = false;
  }

  /** on registers fn for an event name (server events, "state", "resync", "error", "message"). */
  on(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(fn);
    return () => this.off(event, fn);
  }

  off(event, fn) {
    this.handlers.get(event)?.delete(fn);
  }

  emit(event, ...args) {
    for (const fn of this.handlers.get(event) || []) {
      try {
        fn(...args);
      } catch (e) {
        if (event !== "error") this.emit("error", e);
      }
    }
  }

  setState(s, detail = {}) {
    if (this.state === s) return;
    this.state = s;
    this.emit("state", s, detail);
  }

  /** connect opens the connection; it resolves once authenticated. */
  connect() {
    this.stopped = false;
    return new Promise((resolve, reject) => {
      this.readyWaiters = { resolve, reject };
      this.open();
    });
  }

  async token() {
    if (this.opts.getToken) return await this.opts.getToken();
    return this.opts.token;
  }

  open() {
    if (this.stopped) return;
    this.setState(this.attempt === 0 && !this.identity ? State.CONNECTING : State.RECONNECTING, { attempt: this.attempt });
    let ws;
    try {
      ws = new this.WS(this.url, this.opts.protocols);
    } catch (e) {
      this.scheduleReconnect(e);
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.onOpen(ws);
    ws.onmessage = (m) => this.onMessage(ws, typeof m.data === "string" ? m.data : String(m.data));
    ws.onclose = (e) => this.onClose(ws, e.code, e.reason);
    ws.onerror = () => {}; // onclose follows and decides
  }

  async onOpen(ws) {
    let token;
    try {
      token = await this.token();
    } catch (e) {
      this.emit("error", e);
      ws.close(1000);
      return;
    }
    if (ws !== this.ws) return;
    this.rawSend({ event: "AUTH", payload: { token }, correlationId: "auth" });
  }

  onMessage(ws, text) {
    if (ws !== this.ws) return;
    let env;
    try {
      env = JSON.parse(text);
    } catch {
      return;
    }
    const p = env.payload || {};
    switch (env.event) {
      case "AUTHENTICATED":
        this.identity = p;
        this.settle(env); // a refreshToken call
        if (this.state !== State.OPEN) {
          this.attempt = 0;
          this.setState(State.OPEN);
          this.resubscribe();
          this.readyWaiters?.resolve(p);
          this.readyWaiters = null;
        }
        this.emit("AUTHENTICATED", p, env);
        return;
      case "SUBSCRIBED": {
        const sub = this.subs.get(p.namespace);
        if (sub) {
          sub.active = true;
          if (p.position) sub.since = p.position;
          const resumed = sub.resuming;
          sub.resuming = false;
          if (resumed && p.recovered === false) {
            // The server could not replay exactly what was missed: the
            // app must reload what it shows (rooms and service come with
            // a snapshot: the board, the open requests).
            this.emit("resync", { namespace: p.namespace, snapshot: p.snapshot || null, requests: p.requests || null });
          }
        }
        this.settle(env);
        this.emit("SUBSCRIBED", p, env);
        return;
      }
      case "ACK":
      case "ERROR":
      case "UNSUBSCRIBED":
        if (env.correlationId && this.pending.has(env.correlationId)) {
          this.settle(env);
        } else if (env.event === "ERROR") {
          this.emit("error", new BellhopError(p.code, p.message));
        }
        this.emit(env.event, p, env);
        return;
    }
    if (env.messageId && env.namespace) {
      const sub = this.subs.get(env.namespace);
      if (sub) sub.since = env.messageId;
    }
    this.emit(env.event, p, env);
    this.emit("message", env);
  }

  settle(env) {
    const call = this.pending.get(env.correlationId);
    if (!call) return;
    this.pending.delete(env.correlationId);
    this.opts.clearTimeout(call.timer);
    if (env.event === "ERROR") call.reject(new BellhopError(env.payload?.code, env.payload?.message));
    else call.resolve(env.payload);
  }

  onClose(ws, code, reason) {
    if (ws !== this.ws) return;
    this.ws = null;
    for (const sub of this.subs.values()) sub.active = false;
    if (this.stopped || code === Close.REVOKED || (code === Close.AUTH_REQUIRED && !this.opts.getToken)) {
      this.fail(new BellhopError("CLOSED", `closed ${code} ${reason || ""}`.trim()));
      return;
    }
    this.scheduleReconnect(new BellhopError("CLOSED", `closed ${code}`), code);
  }

  fail(err) {
    this.stopped = true;
    this.setState(State.CLOSED, { error: err });
    for (const [id, call] of this.pending) {
      this.opts.clearTimeout(call.timer);
      call.reject(err);
      this.pending.delete(id);
    }
    this.readyWaiters?.reject(err);
    this.readyWaiters = null;
  }

  scheduleReconnect(err, code) {
    const delay = backoffDelay(this.attempt, this.opts.backoff, this.opts.random);
    this.attempt++;
    this.setState(State.RECONNECTING, { attempt: this.attempt, delay, code });
    this.timer = this.opts.setTimeout(() => {
      this.timer = null;
      this.open();
    }, delay);
  }

  /**
   * resubscribe renews every subscription, resuming from the last messageId
   * seen. A node busy with a reconnect storm may answer OVERLOADED or
   * UNAVAILABLE: that namespace is retried with backoff, so the app never
   * believes it is subscribed when it is not.
   */
  resubscribe() {
    for (const ns of this.subs.keys()) this.renew(ns, 0);
  }

  renew(ns, attempt) {
    const sub = this.subs.get(ns);
    if (!sub || this.state !== State.OPEN) return;
    sub.resuming = !!sub.since;
    this.call("SUBSCRIBE", sub.since ? { since: sub.since } : {}, ns).catch((e) => {
      if (!this.subs.has(ns) || this.state !== State.OPEN) return; // reconnecting renews it anyway
      if (e.code === "OVERLOADED" || e.code === "UNAVAILABLE" || e.code === "TIMEOUT") {
        const delay = backoffDelay(attempt, this.opts.backoff, this.opts.random);
        const t = this.opts.setTimeout(() => {
          this.retries.delete(t);
          this.renew(ns, attempt + 1);
        }, delay);
        this.retries.add(t); // close() cancels it
        return;
      }
      this.emit("error", e);
    });
  }

  rawSend(env) {
    if (!this.ws || (this.ws.readyState !== undefined && this.ws.readyState !== 1)) return false;
    this.ws.send(JSON.stringify(env));
    return true;
  }

  /** call sends an event and resolves with its ACK's payload (rejects on ERROR). */
  call(event, payload = {}, namespace) {
    const id = correlationId();
    return new Promise((resolve, reject) => {
      const timer = this.opts.setTimeout(() => {
        this.pending.delete(id);
        reject(new BellhopError("TIMEOUT", `${event}: no answer in time`));
      }, this.opts.callTimeout);
      this.pending.set(id, { resolve, reject, timer });
      const env = { event, payload, correlationId: id };
      if (namespace) env.namespace = namespace;
      if (this.state !== State.OPEN || !this.rawSend(env)) {
        this.pending.delete(id);
        this.opts.clearTimeout(timer);
        reject(new BellhopError("NOT_CONNECTED", `${event}: not connected`));
      }
    });
  }

  /** subscribe joins a namespace (kept across reconnects) and resolves with SUBSCRIBED. */
  subscribe(namespace, since) {
    const sub = this.subs.get(namespace) || { since: since || null, active: false };
    this.subs.set(namespace, sub);
    sub.resuming = !!sub.since;
    return this.call("SUBSCRIBE", sub.since ? { since: sub.since } : {}, namespace);
  }

  unsubscribe(namespace) {
    this.subs.delete(namespace);
    return this.call("UNSUBSCRIBE", {}, namespace);
  }

  /** refreshToken sends a fresh token on the open connection (before expiry). */
  async refreshToken(token) {
    if (token !== undefined) this.opts.token = token;
    return this.call("AUTH", { token: token ?? (await this.token()) });
  }

  /** close ends the connection for good. */
  close() {
    this.stopped = true;
    if (this.timer) this.opts.clearTimeout(this.timer);
    for (const t of this.retries) this.opts.clearTimeout(t);
    this.retries.clear();
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
    this.fail(new BellhopError("CLOSED", "closed by the app"));
  }

  // Hotel helpers.
  updateRoom(roomNumber, status, extra = {}) {
    return this.call("ROOM_STATUS_UPDATE", { roomNumber, status, ...extra });
  }
  createRequest(request) {
    return this.call("SERVICE_REQUEST", request);
  }
  requestAction(requestId, action, note) {
    return this.call("SERVICE_REQUEST_UPDATE", note ? { requestId, action, note } : { requestId, action });
  }
  acceptRequest(id, note) { return this.requestAction(id, "accept", note); }
  declineRequest(id, note) { return this.requestAction(id, "decline", note); }
  startRequest(id, note) { return this.requestAction(id, "start", note); }
  completeRequest(id, note) { return this.requestAction(id, "complete", note); }
  cancelRequest(id, note) { return this.requestAction(id, "cancel", note); }
  /** ack sends a read receipt for a message. */
  ack(messageId) {
    return this.rawSend({ event: "ACK", payload: { messageId } });
  }
}
