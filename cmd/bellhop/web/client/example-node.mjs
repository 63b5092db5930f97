// example-node.mjs: the client from a Node script (an ERP job, a test). Node
// before 22 has no global WebSocket, so the "ws" package's class is passed.
//
//   BELLHOP_URL=ws://127.0.0.1:3001/ws BELLHOP_TOKEN=... WS_MODULE=ws node example-node.mjs
//
// It subscribes to the room board, sets a room's status, and prints the
// change the server broadcasts back, then exits.
import { BellhopClient } from "./bellhop.js";

const { default: WebSocket } = await import(process.env.WS_MODULE || "ws");
const room = process.env.ROOM || "101";
const status = process.env.STATUS || "DIRTY";

const client = new BellhopClient(process.env.BELLHOP_URL, { token: process.env.BELLHOP_TOKEN, WebSocket });
const seen = new Promise((resolve) =>
  client.on("ROOM_STATUS_UPDATE", (r) => r.roomNumber === room && r.status === status && resolve(r)),
);
const who = await client.connect();
const sub = await client.subscribe("rooms");
const ack = await client.updateRoom(room, status);
const change = await seen;
console.log(JSON.stringify({ who: who.sub, rooms: sub.snapshot?.rooms?.length ?? 0, messageId: ack.messageId, status: change.status }));
client.close();
