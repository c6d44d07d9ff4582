"""gunicorn settings for running the store under corral (and alone).

Under corral, gunicorn finds the listening socket by itself: with LISTEN_FDS
set and LISTEN_PID its own pid it serves on fd 3 and ignores `bind`
(gunicorn/arbiter.py, Arbiter.start). Do not add `--bind fd://3` as well:
gunicorn 20.1.0 then takes fd 3 twice and fails with EBADF.
"""
import os
import signal
import socket
import time

bind = '0.0.0.0:' + os.environ.get('PORT', '8000')  # alone only; see above
# gunicorn calls listen() again on the socket every copy shares, with this
# backlog (2048 by default): ask for the longest queue, which the kernel caps
# at net.core.somaxconn, the length corral listens with.
backlog = 65535
# corral is the process manager and runs the copies: one gunicorn worker each.
workers = 1
# Threads, so a checkout waiting on the payment provider does not hold up the
# other requests; gthread also keeps connections alive (for `keepalive` s).
worker_class = 'gthread'
threads = 8
# The worker's heartbeat file: in memory, and writable on a read-only root.
worker_tmp_dir = '/dev/shm'

# gunicorn's master sends READY=1 itself as soon as it holds the socket, before
# its worker has even imported the app (gunicorn/arbiter.py, Arbiter.start).
# Take NOTIFY_SOCKET away from it here (this file is read before that), and
# speak the notify protocol from the worker, which does the serving.
_notify_socket = os.environ.pop('NOTIFY_SOCKET', None)
_watchdog_interval = int(os.environ.get('WATCHDOG_USEC', 0)) / 2e6
_draining = False


def _notify(message):
    if not _notify_socket:
        return
    address = '\0' + _notify_socket[1:] if _notify_socket.startswith('@') else _notify_socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(message.encode(), address)
    except OSError:
        pass  # as sd_notify: a missing listener is not the app's failure


def post_worker_init(worker):
    """In the worker, with the app loaded, just before it starts serving."""
    _notify('READY=1\nSTATUS=serving, pid %d' % worker.pid)
    signal.signal(signal.SIGTERM, lambda signum, frame: _drain(worker))

    # The worker's loop calls notify() on every turn, at least once a second
    # with gthread: send WATCHDOG=1 from there, so a stuck loop goes quiet.
    # WATCHDOG_PID names the process corral started, the gunicorn master.
    watchdog = _watchdog_interval and os.environ.get('WATCHDOG_PID') == str(os.getppid())
    heartbeat = worker.notify
    last_watchdog = [0.0]

    def notify():
        heartbeat()
        if watchdog and time.monotonic() - last_watchdog[0] >= _watchdog_interval:
            last_watchdog[0] = time.monotonic()
            _notify('WATCHDOG=1')
        if _draining and worker.nr_conns == 0:
            worker.alive = False  # the loop ends; the worker exits 0

    worker.notify = notify


def _drain(worker):
    """SIGTERM, sent to the process group (the master passes it on as well).

    gthread's own handler ends the loop at once and exits: a kept-alive
    connection whose next request is on its way is then reset. Instead, stop
    accepting, answer every request that still comes with Connection: close,
    let idle connections reach their keep-alive timeout, and leave the loop
    once the last connection is closed (in notify above)."""
    global _draining
    if _draining:
        return
    _draining = True
    _notify('STOPPING=1')
    for listener in worker.sockets:
        try:
            worker.poller.unregister(listener)
        except KeyError:
            pass  # SIGTERM came before the loop registered it: it stops at once


def pre_request(worker, req):
    if _draining:
        req.must_close = True  # gunicorn answers with Connection: close
