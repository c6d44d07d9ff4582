// The store under Node's own cluster module, as most tutorials build it, for
// bench/any_app.sh: the primary forks WORKERS copies of
// examples/node-store/server.js, which listen on PORT (the primary holds the
// socket and hands out connections). SIGHUP replaces the copies one at a
// time: fork the new one, and once it listens, disconnect the old one (kill
// it if it has not exited 5 s later). A copy that dies on its own is forked
// again.
'use strict';

const cluster = require('cluster');
const path = require('path');
const serialRoll = require(path.join(__dirname, 'serial-roll.js'));

if (!cluster.isPrimary) {
  require(path.join(__dirname, '..', 'examples', 'node-store', 'server.js'));
  return;
}

const WORKERS = Number(process.env.WORKERS || 2);
const KILL_AFTER_MS = 5000;

for (let i = 0; i < WORKERS; i++) cluster.fork();

cluster.on('exit', (worker, code, signal) => {
  if (!worker.exitedAfterDisconnect) {
    console.log(`worker ${worker.process.pid} died (${signal || code}), forking another`);
    cluster.fork();
  }
});

function replace(old, done) {
  const next = cluster.fork();
  next.once('listening', () => {
    const timer = setTimeout(() => old.kill(), KILL_AFTER_MS);
    old.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    old.disconnect();
  });
}

const roll = serialRoll(replace);

process.on('SIGHUP', roll);
process.on('SIGTERM', () => {
  for (const w of Object.values(cluster.workers)) w.disconnect();
  cluster.disconnect(() => process.exit(0));
});
