// Unit tests of the client's backoff, resume and token logic against a fake
// WebSocket (node --test). The browser tests drive it against a real server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BellhopClient, backoffDelay, State, Close } from "./bellhop.js";

// FakeSocket records what the client sends and lets the test play the server.
class FakeSocket {
  static all = [];
  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.sent = [];
    this.readyState = 0;
    FakeSocket.all.push(this);
  }
  send(s) { this.sent.push(JSON.parse(s)); }
  close(code = 1000) { this.readyState = 3; this.onclose?.({ code, reason: "" }); }
  // server side
  open() { this.readyState = 1; this.onopen?.(); }
  push(env) { this.onmessage?.({ data: JSON.stringify(env) }); }
  drop(code) { this.readyState = 3; this.onclose?.({ code, reason: "" }); }
  last(event) { return [...this.sent].reverse().find((e) => e.event === event); }
}

// manualTimers runs scheduled callbacks only when the test says so.
function manualTimers() {
  const queue = [];
  return {
    queue,
    setTimeout: (f, ms) => { const t = { f, ms }; queue.push(t); return t; },
    clearTimeout: (t) => { const i = queue.indexOf(t); if (i >= 0) queue.splice(i, 1); },
    // runReconnect runs the pending reconnect (call timeouts are 60 s) and returns its delay.
    runReconnect() { const i = queue.findIndex((t) => t.ms < 60000); const t = queue.splice(i, 1)[0]; t.f(); return t.ms; },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

async function connected(opts = {}) {
  FakeSocket.all = [];
  const timers = manualTimers();
  let tokens = 0;
  const c = new BellhopClient("ws://x/ws", {
    WebSocket: FakeSocket, getToken: async () => "tok-" + ++tokens, random: () => 0.5, callTimeout: 60000,
    setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout, ...opts,
  });
  const ready = c.connect();
  const ws = FakeSocket.all.at(-1);
  ws.open();
  await tick();
  assert.equal(ws.sent[0].event, "AUTH");
  ws.push({ event: "AUTHENTICATED", payload: { sub: "fd-1", role: "front_desk" }, correlationId: "auth" });
  await ready;
  return { c, ws, timers, tokens: () => tokens };
}

test("backoff: full jitter under an exponential cap", () => {
  const b = { initial: 500, max: 30000, factor: 2 };
  const cases = [
    [0, 1, 500], [1, 1, 1000], [3, 1, 4000], [6, 1, 30000], [20, 1, 30000], [4, 0, 0], [2, 0.5, 1000], [-1, 1, 500],
  ];
  for (const [attempt, r, want] of cases) {
    assert.equal(backoffDelay(attempt, b, () => r), want, `attempt ${attempt}, random ${r}`);
  }
  for (let i = 0; i < 1000; i++) {
    const d = backoffDelay(5, b);
    assert.ok(d >= 0 && d < 16000, `delay ${d} outside [0, 16000)`);
  }
});

test("authenticates with an AUTH event, never a token in the URL", async () => {
  const { c, ws } = await connected();
  assert.equal(ws.url, "ws://x/ws");
  assert.deepEqual(ws.protocols, ["bellhop.v1"]);
  assert.equal(ws.sent[0].payload.token, "tok-1");
  assert.equal(c.state, State.OPEN);
});

test("reconnects with growing backoff and resumes each namespace from its last messageId", async () => {
  const { c, ws, timers } = await connected();
  const sub = c.subscribe("rooms");
  const s1 = ws.last("SUBSCRIBE");
  assert.deepEqual(s1.payload, {});
  ws.push({ event: "SUBSCRIBED", payload: { namespace: "rooms", position: "e1-4", recovered: false }, correlationId: s1.correlationId });
  await sub;
  ws.push({ event: "ROOM_STATUS_UPDATE", namespace: "rooms", messageId: "e1-5", payload: { roomNumber: "101" } });
  ws.push({ event: "ROOM_STATUS_UPDATE", namespace: "rooms", messageId: "e1-6", payload: { roomNumber: "102" } });
  const states = [];
  c.on("state", (s, d) => states.push([s, d.delay]));
  ws.drop(Close.GOING_AWAY);
  assert.deepEqual(states.at(-1), [State.RECONNECTING, 250]); // random 0.5 of 500
  assert.equal(timers.runReconnect(), 250);
  const ws2 = FakeSocket.all.at(-1);
  ws2.drop(1006); // the node is not back yet
  assert.equal(timers.runReconnect(), 500); // attempt 1: half of 1000
  const ws3 = FakeSocket.all.at(-1);
  ws3.open();
  await tick();
  assert.equal(ws3.sent[0].payload.token, "tok-2"); // a fresh token for the new connection
  ws3.push({ event: "AUTHENTICATED", payload: { sub: "fd-1" } });
  const resub = ws3.last("SUBSCRIBE");
  assert.equal(resub.namespace, "rooms");
  assert.deepEqual(resub.payload, { since: "e1-6" });
  let resync = null;
  c.on("resync", (r) => (resync = r));
  ws3.push({ event: "SUBSCRIBED", payload: { namespace: "rooms", recovered: true, missed: 2, position: "e1-8" }, correlationId: resub.correlationId });
  assert.equal(resync, null);
  assert.equal(c.state, State.OPEN);
  assert.equal(c.attempt, 0); // the backoff starts over after a success
});

test("surfaces recovered:false as a resync with the snapshot", async () => {
  const { c, ws, timers } = await connected();
  c.subscribe("rooms", "old-9");
  let resync = null;
  c.on("resync", (r) => (resync = r));
  const s = ws.last("SUBSCRIBE");
  assert.deepEqual(s.payload, { since: "old-9" });
  ws.push({ event: "SUBSCRIBED", payload: { namespace: "rooms", recovered: false, snapshot: { rooms: [] } }, correlationId: s.correlationId });
  assert.deepEqual(resync, { namespace: "rooms", snapshot: { rooms: [] }, requests: null });
  assert.ok(timers);
});

test("calls resolve on ACK and reject on ERROR, matched by correlationId", async () => {
  const { c, ws } = await connected();
  const ok = c.updateRoom("101", "CLEANED");
  const bad = c.acceptRequest("req-1");
  const [u, a] = ws.sent.slice(-2);
  assert.equal(u.event, "ROOM_STATUS_UPDATE");
  assert.deepEqual(a.payload, { requestId: "req-1", action: "accept" });
  ws.push({ event: "ERROR", payload: { code: "FORBIDDEN", message: "not yours" }, correlationId: a.correlationId });
  ws.push({ event: "ACK", payload: { event: "ROOM_STATUS_UPDATE", messageId: "e-1" }, correlationId: u.correlationId });
  assert.deepEqual(await ok, { event: "ROOM_STATUS_UPDATE", messageId: "e-1" });
  await assert.rejects(bad, (e) => e.code === "FORBIDDEN");
});

test("an expired token (4002) reconnects with a new one; a revoked one (4003) stops", async () => {
  const { c, ws, timers, tokens } = await connected();
  ws.drop(Close.TOKEN_EXPIRED);
  timers.runReconnect();
  const ws2 = FakeSocket.all.at(-1);
  ws2.open();
  await tick();
  assert.equal(ws2.sent[0].payload.token, "tok-2");
  assert.equal(tokens(), 2);
  ws2.push({ event: "AUTHENTICATED", payload: {} });
  ws2.drop(Close.REVOKED);
  assert.equal(c.state, State.CLOSED);
  assert.equal(timers.queue.length, 0);
});

test("refreshToken sends AUTH on the open connection and resolves on AUTHENTICATED", async () => {
  const { c, ws } = await connected();
  const r = c.refreshToken("tok-new");
  const auth = ws.last("AUTH");
  assert.equal(auth.payload.token, "tok-new");
  ws.push({ event: "AUTHENTICATED", payload: { sub: "fd-1", expiresAt: "later" }, correlationId: auth.correlationId });
  assert.deepEqual(await r, { sub: "fd-1", expiresAt: "later" });
});

test("close stops for good and fails calls in flight", async () => {
  const { c, ws, timers } = await connected();
  const p = c.createRequest({ type: "towels" });
  c.close();
  await assert.rejects(p, (e) => e.code === "CLOSED");
  assert.equal(c.state, State.CLOSED);
  assert.equal(ws.readyState, 3);
  assert.equal(timers.queue.filter((t) => t.ms < 60000).length, 0);
  await assert.rejects(c.updateRoom("1", "DIRTY"), (e) => e.code === "NOT_CONNECTED");
});

test("a resubscription refused as OVERLOADED is retried with backoff", async () => {
  const { c, ws, timers } = await connected();
  const first = c.subscribe("rooms");
  const s1 = ws.last("SUBSCRIBE");
  ws.push({ event: "SUBSCRIBED", payload: { namespace: "rooms", position: "e-3" }, correlationId: s1.correlationId });
  await first;
  ws.drop(Close.GOING_AWAY);
  timers.runReconnect();
  const ws2 = FakeSocket.all.at(-1);
  ws2.open();
  await tick();
  ws2.push({ event: "AUTHENTICATED", payload: {} });
  const r1 = ws2.last("SUBSCRIBE");
  ws2.push({ event: "ERROR", payload: { code: "OVERLOADED", message: "busy" }, correlationId: r1.correlationId });
  await tick();
  assert.equal(timers.runReconnect(), 250); // the retry, after a backoff
  const r2 = ws2.last("SUBSCRIBE");
  assert.notEqual(r2.correlationId, r1.correlationId);
  assert.deepEqual(r2.payload, { since: "e-3" });
  ws2.push({ event: "ERROR", payload: { code: "OVERLOADED", message: "busy" }, correlationId: r2.correlationId });
  await tick();
  c.close(); // cancels the pending retry
  assert.equal(timers.queue.filter((t) => t.ms < 60000).length, 0);
});
