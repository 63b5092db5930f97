#!/usr/bin/env node
// echo-client drives a WebSocket echo endpoint with Node's `ws` package, an
// independent client implementation, and checks that every message comes back
// byte-identical and with the same type (text or binary). It is used by the
// interop tests and by hand against a running server.
//
// Usage:
//   node tools/interop/echo-client.mjs [--url] URL [--deflate|--no-deflate]
//                                      [--ca FILE] [--timeout MS]
//
// Environment (used when the flag is absent): ECHO_URL, ECHO_DEFLATE (1/true),
// ECHO_CA, ECHO_TIMEOUT_MS.
//
// On success it prints one JSON line
//   {"ok":true,"messages":N,"deflate":bool,"negotiated":"<extensions header>"}
// and exits 0. On failure it prints {"ok":false,"error":"..."} on stdout, a
// readable message on stderr, and exits 1.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

// SIZES are the payload lengths in bytes; they straddle the 7-bit, 16-bit and
// 64-bit length encodings of RFC 6455 section 5.2.
const SIZES = [0, 1, 125, 126, 127, 65535, 65536, 65537, 1048576];

// UNITS are cycled to build text payloads: 1-, 2-, 3- and 4-byte UTF-8
// sequences, so that the server's UTF-8 validation sees every width.
const UNITS = ['a', 'é', '€', '😀'].map((s) => Buffer.from(s, 'utf8'));

const DEFAULT_TIMEOUT_MS = 30000;

const USAGE = `usage: echo-client.mjs [--url] URL [--deflate|--no-deflate] [--ca FILE] [--timeout MS]
  URL          ws:// or wss:// address of an echo endpoint (env ECHO_URL)
  --deflate    offer permessage-deflate with the client defaults (env ECHO_DEFLATE=1)
  --no-deflate offer no extension (default)
  --ca FILE    PEM file trusted for wss:// (env ECHO_CA); without it the
               server certificate is not verified
  --timeout MS overall deadline in milliseconds (default ${DEFAULT_TIMEOUT_MS}, env ECHO_TIMEOUT_MS)`;

// UsageError marks a bad command line, reported with the usage text.
class UsageError extends Error {}

// truthy reports whether an environment value means "on".
function truthy(v) {
  return ['1', 'true', 'yes', 'on'].includes(String(v ?? '').toLowerCase());
}

// parseConfig turns argv and the environment into the run configuration.
function parseConfig(argv, env) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        deflate: { type: 'boolean' },
        'no-deflate': { type: 'boolean' },
        ca: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(err.message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  if (positionals.length > 1 || (positionals.length === 1 && values.url)) {
    throw new UsageError('exactly one URL is expected');
  }
  const url = values.url ?? positionals[0] ?? env.ECHO_URL;
  if (!url) throw new UsageError('missing URL');
  if (!/^wss?:\/\//i.test(url)) throw new UsageError(`URL must start with ws:// or wss://: ${url}`);
  if (values.deflate && values['no-deflate']) {
    throw new UsageError('--deflate and --no-deflate are mutually exclusive');
  }
  let deflate = truthy(env.ECHO_DEFLATE);
  if (values.deflate) deflate = true;
  if (values['no-deflate']) deflate = false;
  const timeoutText = values.timeout ?? env.ECHO_TIMEOUT_MS ?? String(DEFAULT_TIMEOUT_MS);
  const timeoutMs = Number(timeoutText);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new UsageError(`timeout must be a positive integer of milliseconds: ${timeoutText}`);
  }
  return { url, deflate, ca: values.ca ?? env.ECHO_CA, timeoutMs };
}

// textPayload returns a valid UTF-8 string of exactly n bytes that mixes
// multi-byte sequences; it falls back to ASCII where a wider unit won't fit.
function textPayload(n) {
  const parts = [];
  let left = n;
  for (let i = 0; left > 0; i++) {
    const unit = UNITS[i % UNITS.length];
    const pick = unit.length <= left ? unit : UNITS[0];
    parts.push(pick);
    left -= pick.length;
  }
  const buf = Buffer.concat(parts, n);
  if (buf.length !== n) throw new Error(`BUG: text payload is ${buf.length} bytes, want ${n}`);
  return buf;
}

// binaryPayload returns n bytes covering every byte value, including ones that
// are invalid in UTF-8, so a server that treats binary as text is caught.
function binaryPayload(n) {
  const buf = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) buf[i] = (i * 31 + (i >> 8)) & 0xff;
  return buf;
}

// cases lists every message to send, text and binary for each size.
function cases() {
  const out = [];
  for (const size of SIZES) {
    out.push({ binary: false, size, payload: textPayload(size) });
    out.push({ binary: true, size, payload: binaryPayload(size) });
  }
  return out;
}

// Session owns one WebSocket connection and the single outstanding request;
// all its state is touched only from Node's event loop.
class Session {
  constructor(cfg) {
    this.cfg = cfg;
    this.negotiated = '';
    this.pending = null; // {resolve, reject} of the message awaited, or null.
    this.closed = null; // {code, reason} once the 'close' event fired.
    this.onClose = null; // resolve of the close awaited, or null.
  }

  // open connects and resolves once the handshake completed.
  open() {
    const opts = { perMessageDeflate: this.cfg.deflate, handshakeTimeout: this.cfg.timeoutMs };
    if (/^wss:/i.test(this.cfg.url)) {
      if (this.cfg.ca) opts.ca = readFileSync(this.cfg.ca);
      else opts.rejectUnauthorized = false;
    }
    this.ws = new WebSocket(this.cfg.url, opts);
    this.ws.on('upgrade', (res) => {
      this.negotiated = res.headers['sec-websocket-extensions'] ?? '';
    });
    this.ws.on('message', (data, isBinary) => this.deliver(data, isBinary));
    this.ws.on('error', (err) => this.fail(err));
    this.ws.on('close', (code, reason) => this.closedWith(code, reason));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.ws.once('open', () => {
        this.pending = null;
        resolve();
      });
    });
  }

  // deliver hands an incoming message to the awaiting request.
  deliver(data, isBinary) {
    const p = this.pending;
    if (!p) {
      this.fail(new Error('unexpected message with no request outstanding'));
      return;
    }
    this.pending = null;
    p.resolve({ data: Buffer.isBuffer(data) ? data : Buffer.concat(data), isBinary });
  }

  // fail rejects whatever is awaited; with nothing awaited the error is
  // reported by the close that follows it.
  fail(err) {
    const p = this.pending;
    this.pending = null;
    if (p) p.reject(err);
  }

  // closedWith records the close and wakes a waiting request or close.
  closedWith(code, reason) {
    this.closed = { code, reason: reason.toString('utf8') };
    if (this.onClose) {
      this.onClose(this.closed);
      return;
    }
    this.fail(new Error(`connection closed early with code ${code} ${JSON.stringify(this.closed.reason)}`));
  }

  // roundTrip sends one message and returns the echo.
  roundTrip(c) {
    if (this.closed) return Promise.reject(new Error(`connection closed with code ${this.closed.code}`));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      const data = c.binary ? c.payload : c.payload.toString('utf8');
      this.ws.send(data, { binary: c.binary }, (err) => err && this.fail(err));
    });
  }

  // close sends a 1000 close and resolves with the peer's close code.
  close() {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve) => {
      this.onClose = resolve;
      this.ws.close(1000, 'echo-client done');
    });
  }
}

// check compares an echo with what was sent.
function check(c, echo) {
  const kind = c.binary ? 'binary' : 'text';
  if (echo.isBinary !== c.binary) {
    throw new Error(`${kind} message of ${c.size} bytes came back as ${echo.isBinary ? 'binary' : 'text'}`);
  }
  if (echo.data.length !== c.size) {
    throw new Error(`${kind} message of ${c.size} bytes came back with ${echo.data.length} bytes`);
  }
  if (echo.data.equals(c.payload)) return;
  const i = echo.data.findIndex((b, j) => b !== c.payload[j]);
  throw new Error(`${kind} message of ${c.size} bytes differs at byte ${i}`);
}

// run performs the whole exchange and returns the summary.
async function run(cfg) {
  const s = new Session(cfg);
  try {
    await s.open();
    let messages = 0;
    for (const c of cases()) {
      check(c, await s.roundTrip(c));
      messages++;
    }
    const closed = await s.close();
    if (closed.code !== 1000) {
      throw new Error(`server closed with code ${closed.code}, want 1000`);
    }
    return { ok: true, messages, deflate: cfg.deflate, negotiated: s.negotiated };
  } catch (err) {
    s.ws?.terminate();
    throw err;
  }
}

// main wires configuration, deadline and reporting.
async function main() {
  let cfg;
  try {
    cfg = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`echo-client: ${err.message}\n${USAGE}\n`);
    process.exit(1);
  }
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${cfg.timeoutMs} ms`)), cfg.timeoutMs);
  });
  try {
    const summary = await Promise.race([run(cfg), deadline]);
    clearTimeout(timer);
    process.stdout.write(JSON.stringify(summary) + '\n');
  } catch (err) {
    const msg = err?.message ?? String(err);
    process.stdout.write(JSON.stringify({ ok: false, deflate: cfg.deflate, error: msg }) + '\n');
    process.stderr.write(`echo-client: ${cfg.url}: ${msg}\n`);
    process.exit(1);
  }
}

await main();
