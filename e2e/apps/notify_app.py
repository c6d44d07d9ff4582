"""A small app for corral's runtime shape, speaking the systemd protocols.

It serves HTTP on the socket-activation descriptor (fd 3), says READY=1 on
NOTIFY_SOCKET, and answers GET /env with what it was given. For the tests:
APP_NEVER_READY_IF=PATH keeps it from saying READY=1 while PATH exists;
APP_WATCHDOG_FOR=SECONDS sends WATCHDOG=1 that long, then falls silent.
"""
import http.server
import json
import os
import signal
import socket
import threading
import time


def notify(message):
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(message.encode(), address)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({
            "pid": os.getpid(),
            "env": {k: v for k, v in os.environ.items()
                    if k.startswith(("LISTEN_", "CORRAL_", "NOTIFY_",
                                     "WATCHDOG_"))},
            "fds_at_start": FDS_AT_START,
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def open_fds():
    """The descriptors open now, but the one listing them."""
    fds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink(f"/proc/self/fd/{fd}").startswith("/proc/"):
                fds.append(int(fd))
        except OSError:
            pass
    return sorted(fds)


FDS_AT_START = open_fds()


def main():
    assert os.environ.get("LISTEN_PID") == str(os.getpid())
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler,
                                    bind_and_activate=False)
    server.socket.close()
    server.socket = socket.socket(fileno=3)
    # Several processes wait on this socket: whoever loses the race for a
    # connection must not block in accept().
    server.socket.setblocking(False)
    signal.signal(signal.SIGTERM,
                  lambda *_: threading.Thread(target=server.shutdown).start())
    never = os.environ.get("APP_NEVER_READY_IF")
    if not (never and os.path.exists(never)):
        notify("READY=1\nSTATUS=serving")
    watchdog_for = float(os.environ.get("APP_WATCHDOG_FOR", "0"))
    if watchdog_for > 0:
        def beat():
            end = time.monotonic() + watchdog_for
            while time.monotonic() < end:
                notify("WATCHDOG=1")
                time.sleep(0.05)
        threading.Thread(target=beat, daemon=True).start()
    server.serve_forever()
    notify("STOPPING=1")


main()
