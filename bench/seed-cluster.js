// The seed article's cluster design, for bench/shoppers.sh: the primary forks
// one worker per CPU (WORKERS to choose), each serving the store
// (examples/node-store/server.js, the same app as behind every other front
// end) on PORT through the cluster module. A rolling restart (SIGHUP) goes
// one worker at a time: send it a SHUTDOWN message, fork its replacement at
// once, wait for the old one's exit and SIGKILL it after 30 s. A worker that
// is shutting down answers every request 503 with Connection: close and
// exits as soon as its in-flight count reaches 0. A worker that dies on its
// own is forked again.
'use strict';

const cluster = require('cluster');
const os = require('os');
const path = require('path');
const serialRoll = require(path.join(__dirname, 'serial-roll.js'));

if (!cluster.isPrimary) {
  const server = require(path.join(__dirname, '..', 'examples', 'node-store', 'server.js'));
  // Wrap the store's handler: count what is in flight, refuse while shutting down.
  const [serve] = server.listeners('request');
  server.removeAllListeners('request');
  let shuttingDown = false;
  let inFlight = 0;
  const exitWhenIdle = () => {
    if (shuttingDown && inFlight === 0) process.exit(0);
  };
  server.on('request', (req, res) => {
    if (shuttingDown) {
      res.writeHead(503, { 'Content-Type': 'application/json', Connection: 'close' });
      res.end(JSON.stringify({ error: 'shutting down', status: 503 }));
      return;
    }
    inFlight++;
    res.on('close', () => {
      inFlight--;
      exitWhenIdle();
    });
    serve(req, res);
  });
  process.on('message', (msg) => {
    if (msg === 'SHUTDOWN') {
      shuttingDown = true;
      exitWhenIdle();
    }
  });
  return;
}

const WORKERS = Number(process.env.WORKERS || os.availableParallelism());
const KILL_AFTER_MS = 30000;
const replaced = new Set(); // workers told to shut down: their exit is expected

for (let i = 0; i < WORKERS; i++) cluster.fork();

cluster.on('exit', (worker, code, signal) => {
  if (replaced.delete(worker)) return;
  console.log(`worker ${worker.process.pid} died (${signal || code}), forking another`);
  cluster.fork();
});

// Shuts one worker down and forks its replacement at once; done() once the
// old one has exited (by itself, or SIGKILLed after 30 s).
function restart(old, done) {
  replaced.add(old);
  const timer = setTimeout(() => old.process.kill('SIGKILL'), KILL_AFTER_MS);
  old.once('exit', () => {
    clearTimeout(timer);
    done();
  });
  old.send('SHUTDOWN');
  cluster.fork();
}

const roll = serialRoll(restart);

process.on('SIGHUP', roll);
process.on('SIGTERM', () => {
  const workers = Object.values(cluster.workers);
  if (workers.length === 0) process.exit(0);
  let left = workers.length;
  for (const w of workers) {
    replaced.add(w);
    w.once('exit', () => {
      if (--left === 0) process.exit(0);
    });
    w.send('SHUTDOWN');
  }
});
