// A WebSocket echo server for proxy mode's tests, in plain Node (no
// packages): listens on 127.0.0.1:$PORT, echoes text frames of up to 125
// bytes, and prints the code of any close frame it gets to stderr.
'use strict';

const crypto = require('crypto');
const http = require('http');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ pid: process.pid }));
});

function frame(opcode, payload) {
  return Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]);
}

server.on('upgrade', (req, socket) => {
  if ((req.headers.upgrade || '').toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const accept = crypto.createHash('sha1')
    .update(req.headers['sec-websocket-key'] + GUID).digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n' +
    `Connection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n` +
    `X-Worker-Pid: ${process.pid}\r\n\r\n`);
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 6) {
      const opcode = buffered[0] & 0x0f;
      const length = buffered[1] & 0x7f;
      if (buffered.length < 6 + length) return;
      const mask = buffered.subarray(2, 6);
      const payload = Buffer.from(buffered.subarray(6, 6 + length));
      for (let i = 0; i < payload.length; ++i) payload[i] ^= mask[i % 4];
      buffered = buffered.subarray(6 + length);
      if (opcode === 0x8) {
        process.stderr.write(`app got close ${payload.readUInt16BE(0)}\n`);
        socket.end(frame(0x8, payload));
        return;
      }
      socket.write(frame(opcode, payload));
    }
  });
  socket.on('error', () => {});
});

server.listen(Number(process.env.PORT), '127.0.0.1');
