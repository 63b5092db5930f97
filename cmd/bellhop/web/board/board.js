// The operations board: a room grid by floor coloured by status, the
// service-request queue, the alert feed and the connection state, all live,
// on top of the JavaScript client (../client/bellhop.js).
import { BellhopClient, State } from "/client/bellhop.js";

const $ = (sel) => document.querySelector(sel);
const rooms = new Map(); // roomNumber -> room
const requests = new Map(); // requestId -> request
const board = { client: null, rooms, requests, resyncs: 0, cfg: null, identity: null };
window.board = board; // for operators' consoles and the browser tests

// Namespaces each role watches.
const watch = {
  admin: ["rooms", "service", "housekeeping", "maintenance", "system"],
  front_desk: ["rooms", "service", "housekeeping", "maintenance", "system", "me"],
  housekeeping: ["rooms", "housekeeping", "system", "me"],
  maintenance: ["rooms", "maintenance", "system", "me"],
  concierge: ["service", "system", "me"],
  guest: ["me", "system"],
};

async function main() {
  board.cfg = await (await fetch("config.json")).json();
  const saved = sessionStorage.getItem("bellhop-token");
  if (saved) return start(saved);
  $("#login").hidden = false;
  $("#dev-login").hidden = !board.cfg.devLogin;
  $("#dev-login").onsubmit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const resp = await fetch("dev-token", { method: "POST", body: new URLSearchParams(f) });
    const body = await resp.json();
    if (!resp.ok) return ($("#login-error").textContent = body.error || resp.statusText);
    start(body.token);
  };
  $("#token-login").onsubmit = (e) => {
    e.preventDefault();
    start(new FormData(e.target).get("token"));
  };
}

let ages = null; // the interval that keeps request ages current; one per page

function start(token) {
  board.client?.close(); // signing in again replaces the connection
  sessionStorage.setItem("bellhop-token", token);
  $("#login").hidden = true;
  $("#app").hidden = false;
  const c = new BellhopClient(board.cfg.ws, { getToken: async () => sessionStorage.getItem("bellhop-token") });
  board.client = c;
  c.on("state", (s, d) => {
    const el = $("#conn");
    el.dataset.state = s;
    el.textContent = s === State.RECONNECTING && d.delay !== undefined ? `reconnecting (${(d.delay / 1000).toFixed(1)} s)` : s;
    if (s === State.OPEN && c.ws) $("#extensions").textContent = c.ws.extensions ? "compression: " + c.ws.extensions : "no compression";
    if (s === State.CLOSED) {
      sessionStorage.removeItem("bellhop-token");
      message("signed out: " + (d.error?.message || "closed"));
    }
  });
  c.on("AUTHENTICATED", (who) => {
    board.identity = who;
    $("#who").textContent = `${who.sub} · ${who.role}${who.room ? " · room " + who.room : ""}`;
    $("#property").textContent = "· " + who.property;
    $("#rooms-panel").hidden = !["admin", "front_desk", "housekeeping", "maintenance"].includes(who.role);
    $("#room-form").hidden = who.role === "guest";
  });
  c.on("SUBSCRIBED", (p) => {
    if (p.snapshot) loadRooms(p.snapshot.rooms);
    if (p.requests) loadRequests(p.requests);
  });
  c.on("resync", ({ namespace, snapshot }) => {
    board.resyncs++;
    $("#resync").hidden = false;
    $("#resync").dataset.count = board.resyncs;
    if (namespace === "rooms" && snapshot) loadRooms(snapshot.rooms);
  });
  c.on("ROOM_STATUS_UPDATE", (room) => putRoom(room, true));
  c.on("SERVICE_REQUEST", (req) => putRequest(req));
  c.on("SERVICE_REQUEST_UPDATE", (ch) => putRequest(ch.request));
  for (const ev of ["SYSTEM_ALERT", "HOUSEKEEPING_ALERT", "MAINTENANCE_ALERT", "GUEST_CHECKIN", "GUEST_CHECKOUT"]) {
    c.on(ev, (p, env) => alert(ev, p, env));
  }
  c.on("error", (e) => message(e.message));
  c.connect()
    .then(async (who) => {
      for (const ns of watch[who.role] || ["system"]) {
        await c.subscribe(ns).catch((e) => message(`${ns}: ${e.message}`));
      }
    })
    .catch((e) => message("cannot connect: " + e.message));
  ages ??= setInterval(renderRequests, 5000);
}

function message(text) {
  $("#message").textContent = text;
}

function loadRooms(list) {
  rooms.clear();
  for (const r of list || []) rooms.set(r.roomNumber, r);
  renderRooms();
}

function putRoom(room, flash) {
  const old = rooms.get(room.roomNumber);
  if (old && old.version > room.version) return; // a change already in the snapshot
  rooms.set(room.roomNumber, room);
  renderRooms();
  if (flash) {
    const el = document.querySelector(`.room[data-room="${CSS.escape(room.roomNumber)}"]`);
    el?.classList.add("flash");
    setTimeout(() => el?.classList.remove("flash"), 1500);
  }
}

function renderRooms() {
  const floors = new Map();
  for (const r of rooms.values()) {
    if (!floors.has(r.floor)) floors.set(r.floor, []);
    floors.get(r.floor).push(r);
  }
  const root = $("#rooms");
  root.replaceChildren();
  for (const f of [...floors.keys()].sort((a, b) => b - a)) {
    const row = document.createElement("div");
    row.className = "floor";
    const label = document.createElement("b");
    label.textContent = "Floor " + f;
    row.append(label);
    for (const r of floors.get(f).sort((a, b) => a.roomNumber.localeCompare(b.roomNumber, undefined, { numeric: true }))) {
      const cell = document.createElement("div");
      cell.className = "room";
      cell.dataset.room = r.roomNumber;
      cell.dataset.status = r.status;
      cell.title = `${r.roomNumber}: ${r.status} (v${r.version}${r.updatedBy ? ", by " + r.updatedBy : ""})`;
      cell.textContent = r.roomNumber;
      const s = document.createElement("small");
      s.textContent = r.status.replaceAll("_", " ").toLowerCase();
      cell.append(s);
      cell.onclick = () => {
        $("#room-form").room.value = r.roomNumber;
      };
      row.append(cell);
    }
    root.append(row);
  }
}

function loadRequests(list) {
  requests.clear();
  for (const r of list) requests.set(r.requestId, r);
  renderRequests();
}

function putRequest(req) {
  if (!req?.requestId) return;
  const old = requests.get(req.requestId);
  if (old && old.version > req.version) return;
  requests.set(req.requestId, req);
  renderRequests();
}

function age(t) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(t)) / 1000));
  return s < 60 ? s + " s" : s < 3600 ? Math.round(s / 60) + " min" : Math.round(s / 3600) + " h";
}

function renderRequests() {
  const body = $("#requests");
  body.replaceChildren();
  const me = board.identity?.sub;
  const list = [...requests.values()].filter((r) => r.status !== "COMPLETED" && r.status !== "CANCELLED");
  list.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  for (const r of list) {
    const tr = document.createElement("tr");
    tr.dataset.request = r.requestId;
    tr.dataset.state = r.status;
    for (const v of [r.roomNumber, r.type, r.status, r.assignee || "—", age(r.createdAt)]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.append(td);
    }
    const actions = document.createElement("td");
    const act = (label, action) => {
      const b = document.createElement("button");
      b.textContent = label;
      b.dataset.action = action;
      b.onclick = () => board.client.requestAction(r.requestId, action).catch((e) => message(e.message));
      actions.append(b);
    };
    const supervisor = ["front_desk", "admin"].includes(board.identity?.role);
    if (r.assignee === me && r.status === "ASSIGNED") act("Accept", "accept"), act("Decline", "decline");
    if (r.status === "ESCALATED" && board.identity?.role !== "guest") act("Take over", "accept");
    if (r.assignee === me && r.status === "ACCEPTED") act("Start", "start");
    if ((r.assignee === me || supervisor) && (r.status === "ACCEPTED" || r.status === "IN_PROGRESS")) act("Complete", "complete");
    tr.append(actions);
    body.append(tr);
  }
}

function alert(event, p, env) {
  const li = document.createElement("li");
  li.dataset.priority = env.priority || "";
  li.dataset.severity = p.severity || "";
  li.dataset.event = event;
  const when = new Date(env.timestamp || Date.now()).toLocaleTimeString();
  const text = p.message || (p.guestName ? `${event === "GUEST_CHECKIN" ? "check-in" : "check-out"} room ${p.roomNumber}` : event);
  li.textContent = `${when} ${env.priority || ""} ${text}`;
  $("#alerts").prepend(li);
  while ($("#alerts").children.length > 100) $("#alerts").lastChild.remove();
}

$("#alert-filter").onchange = (e) => {
  $("#alerts").dataset.min = e.target.value;
};

$("#room-form").onsubmit = (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  board.client
    .updateRoom(f.get("room"), f.get("status"))
    .then(() => message(`room ${f.get("room")} set to ${f.get("status")}`))
    .catch((err) => message(err.message));
};

$("#request-form").onsubmit = (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const req = { type: f.get("type") };
  if (f.get("room")) req.roomNumber = f.get("room");
  if (f.get("description")) req.description = f.get("description");
  board.client
    .createRequest(req)
    .then((r) => {
      putRequest(r.data);
      message(`request ${r.data.requestId} ${r.data.status.toLowerCase()}`);
    })
    .catch((err) => message(err.message));
};

main();
