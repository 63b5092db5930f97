// Node ws reference server for bellhop's side-by-side benchmarks: ws@8.13.0,
// the library of the system bellhop replaces. It speaks the protocol of
// bellhop's echo endpoint: every message goes back to its sender unchanged,
// except that a text message whose first byte is 'B' goes, unchanged, to
// every other open connection instead.
//
// Set up as the ws README shows for a server sharing an HTTP server
// (noServer plus the 'upgrade' event), with permessage-deflate off. Every
// path but the WebSocket one answers 404. ws sets no idle timeout, so idle
// connections stay up for as long as a benchmark holds them.
//
// Usage: node server.mjs [--addr 127.0.0.1:3001] [--path /echo]
// It prints nothing while it runs; start-up errors go to stderr.

import http from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';

const usage = 'usage: node server.mjs [--addr host:port] [--path /path]';

// parseArgs reads --addr and --path, as "--flag value" or "--flag=value".
function parseArgs(argv) {
  const opts = { addr: '127.0.0.1:3001', path: '/echo' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--?(addr|path)(?:=(.*))?$/s.exec(arg);
    if (!m) fail(`unknown argument ${arg}\n${usage}`, 2);
    const value = m[2] ?? argv[++i];
    if (value === undefined) fail(`${arg} needs a value\n${usage}`, 2);
    opts[m[1]] = value;
  }
  const colon = opts.addr.lastIndexOf(':');
  const port = Number(opts.addr.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) fail(`bad --addr ${opts.addr}`, 2);
  if (!opts.path.startsWith('/')) fail(`bad --path ${opts.path}: must start with /`, 2);
  return { host: opts.addr.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port, path: opts.path };
}

function fail(msg, code) {
  process.stderr.write(`peer-node: ${msg}\n`);
  process.exit(code);
}

const opts = parseArgs(process.argv.slice(2));

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

wss.on('connection', (ws) => {
  // A socket error closes the connection; without a listener it would
  // crash the process.
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    if (!isBinary && data.length > 0 && data[0] === 0x42 /* 'B' */) {
      for (const c of wss.clients) {
        if (c !== ws && c.readyState === WebSocket.OPEN) c.send(data, { binary: false });
      }
      return;
    }
    ws.send(data, { binary: isBinary });
  });
});

const server = http.createServer((req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
});

server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => {});
  const { pathname } = new URL(req.url, 'http://localhost');
  if (pathname !== opts.path) {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

server.on('error', (err) => fail(err.message, 1));

// shutdown closes every connection (a noServer WebSocketServer leaves them
// open when it closes) and the listener, then exits once the clients are
// gone or after a grace period, whichever comes first.
function shutdown() {
  for (const c of wss.clients) c.close(1001);
  wss.close();
  server.close();
  setInterval(() => {
    if (wss.clients.size === 0) process.exit(0);
  }, 20);
  setTimeout(() => process.exit(0), 2000);
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

server.listen(opts.port, opts.host);
