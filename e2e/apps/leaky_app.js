'use strict';
// An app that leaks, the case gunicorn's max_requests, uWSGI's reload-on-rss
// and pm2's max_memory_restart exist for: every request keeps $LEAK_KB
// (default 256) KiB for good, filled so the pages are really resident.
// Takes the listening socket on fd 3 (socket activation) or listens on
// 127.0.0.1:$PORT or the unix socket $PORT (proxy mode); drains on SIGTERM
// as examples/node-store does.
//
// GET /?ms=N   answers after N ms: {"pid": ..., "leaked_kb": ...}
const fs = require('fs');
const http = require('http');
const net = require('net');

const leakBytes = Number(process.env.LEAK_KB || 256) * 1024;
const kept = [];
let draining = false;

const server = http.createServer((req, res) => {
  kept.push(Buffer.alloc(leakBytes, 1));
  const ms = Number(new URL(req.url, 'http://app').searchParams.get('ms') || 0);
  req.resume();
  setTimeout(() => {
    const headers = { 'Content-Type': 'application/json', 'X-Worker-Pid': process.pid };
    if (draining) headers.Connection = 'close';
    res.writeHead(200, headers);
    res.end(JSON.stringify({ pid: process.pid, leaked_kb: (kept.length * leakBytes) / 1024 }));
  }, ms);
});

const inherited = process.env.LISTEN_FDS && process.env.LISTEN_PID === String(process.pid);
const port = process.env.PORT || '';
const where = inherited ? { fd: 3 }
  : /^[0-9]+$/.test(port) ? { port: Number(port), host: '127.0.0.1' }
  : { path: port };
server.listen({ ...where, backlog: 65535 }, () => {
  if (process.env.CORRAL_READY_FD) {
    const fd = Number(process.env.CORRAL_READY_FD);
    fs.writeSync(fd, 'READY=1\n');
    fs.closeSync(fd);
  }
});

process.on('SIGTERM', () => {
  draining = true;
  net.Server.prototype.close.call(server, () => process.exit(0));
  setTimeout(() => server.closeIdleConnections(), 1000);
});
