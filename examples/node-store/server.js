// corral-shop's store in plain Node. Under corral it serves on the socket
// corral owns (fd 3), says when it is ready, and drains on SIGTERM; alone it
// listens on PORT. Run it: corral --ready=pipe -- node server.js
'use strict';

const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');
const { StoreError, findProduct, productsPage, priceCart } = require('./store');

const PAYMENT_LATENCY_MS = 50; // the simulated payment provider
const MAX_BODY_BYTES = 64 * 1024;

// corral's config dir never changes under a running process: read it once.
const banner = process.env.CORRAL_CONFIG_DIR
  ? readOptional(path.join(process.env.CORRAL_CONFIG_DIR, 'banner'))
  : null;
let draining = false;

function readOptional(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

function send(res, status, body) {
  // While draining, every answer closes its connection, so the client
  // reconnects to another process instead of waiting on this one.
  if (draining) res.setHeader('Connection', 'close');
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Worker-Pid': process.pid });
  res.end(JSON.stringify(body));
}

function sendError(res, status, message) {
  send(res, status, { error: message, status });
}

function readJson(req, callback) {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    body += chunk;
    if (body.length > MAX_BODY_BYTES) {
      callback(new StoreError(413, 'body too large'));
      req.destroy();
    }
  });
  req.on('end', () => {
    try {
      callback(null, JSON.parse(body));
    } catch {
      callback(new StoreError(400, 'body is not valid JSON'));
    }
  });
}

function handle(req, res) {
  const url = new URL(req.url, 'http://store');
  const product = url.pathname.match(/^\/products\/([^/]+)$/);
  if (req.method === 'GET' && url.pathname === '/') {
    send(res, 200, {
      store: 'corral node-store', banner, pid: process.pid,
      worker: process.env.CORRAL_WORKER, workers: process.env.CORRAL_WORKERS,
      config_generation: process.env.CORRAL_CONFIG_GENERATION,
    });
  } else if (req.method === 'GET' && url.pathname === '/products') {
    const page = Number(url.searchParams.get('page') || 1);
    const perPage = Number(url.searchParams.get('per_page') || 20);
    send(res, 200, productsPage(page, perPage));
  } else if (req.method === 'GET' && product) {
    if (!/^[0-9]+$/.test(product[1])) return sendError(res, 400, 'product id must be a positive integer');
    const found = findProduct(Number(product[1]));
    if (!found) return sendError(res, 404, `unknown product ${product[1]}`);
    send(res, 200, found);
  } else if (req.method === 'POST' && url.pathname === '/checkout') {
    readJson(req, (err, cart) => {
      if (err) return sendError(res, err.status, err.message);
      let quote;
      try {
        quote = priceCart(cart);
      } catch (e) {
        if (!(e instanceof StoreError)) throw e;
        return sendError(res, e.status, e.message);
      }
      // The payment provider answers later; the loop serves others meanwhile.
      setTimeout(() => send(res, 200, { ...quote, payment: 'approved' }), PAYMENT_LATENCY_MS);
    });
  } else {
    sendError(res, 404, 'no such route');
  }
}

const server = http.createServer((req, res) => {
  try {
    handle(req, res);
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
    sendError(res, e.status, e.message);
  }
});

// corral hands over its listening socket as fd 3 (systemd's LISTEN_FDS
// protocol); LISTEN_PID says the descriptor was meant for this very process.
// Node calls listen() on it again, for every copy sharing it: ask for the
// longest queue, which the kernel caps at somaxconn, as corral asked for.
const inherited = process.env.LISTEN_FDS && process.env.LISTEN_PID === String(process.pid);
// Otherwise PORT: a number is a port, anything else a unix socket's path
// (corral --proxy --app-socket-dir).
const port = process.env.PORT || '3000';
const where = inherited ? { fd: 3 } : /^[0-9]+$/.test(port) ? Number(port) : port;
server.listen(where, 65535, () => {
  // corral --ready=pipe: one line on the inherited descriptor says "serving".
  if (process.env.CORRAL_READY_FD) {
    const fd = Number(process.env.CORRAL_READY_FD);
    fs.writeSync(fd, 'READY=1\n');
    fs.closeSync(fd);
  }
});

process.on('SIGTERM', () => {
  draining = true;
  // Stop accepting; the callback runs once the last connection has closed, so
  // the process never exits with a request in flight. This is net.Server's
  // close: http.Server's, from Node 19 on, also destroys idle keep-alive
  // connections at once, and one may have its next request on the way.
  net.Server.prototype.close.call(server, () => process.exit(0));
  // Busy connections close after their next answer (Connection: close). Any
  // still idle a second from now has been idle since before SIGTERM.
  setTimeout(() => server.closeIdleConnections(), 1000);
});

// For launchers that wrap the store's handler (bench/seed-cluster.js).
module.exports = server;
