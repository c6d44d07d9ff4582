#!/usr/bin/env python3
"""An app for proxy mode's tests: listens on 127.0.0.1:$PORT, keeps
connections alive, and, like many apps, exits at once on SIGTERM (Python's
default), dropping whatever it was doing.

GET  /            {"pid": ...}
GET  /work?ms=N   answers after N ms (threads: requests interleave)
GET  /block?file=PATH   burns CPU until PATH exists (a stuck handler)
GET  /stream?pieces=N&bytes=B   a chunked body of N pieces of B bytes
POST /echo        the body back, with the request's headers
POST /crash       the process exits before answering
GET  /early-hints a 103 before the 200
GET or POST /hang-up?file=PATH   the first time (PATH absent: made now), the
                  connection is closed with no answer; after that, 200
HEAD any GET path: its head, no body

With PORT_APP_BIND_AFTER=PATH it binds $PORT only once PATH exists.
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_HEAD(self):
        self.do_GET()

    def hang_up_once(self, q):
        try:
            open(q["file"], "x").close()
        except FileExistsError:
            self.send_json(200, {"pid": os.getpid()})
            return
        self.close_connection = True  # closed with no byte of an answer

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/hang-up":
            self.hang_up_once(q)
        elif url.path == "/":
            self.send_json(200, {"pid": os.getpid()})
        elif url.path == "/work":
            time.sleep(int(q.get("ms", "0")) / 1000)
            self.send_json(200, {"pid": os.getpid()})
        elif url.path == "/block":
            while not os.path.exists(q["file"]):
                pass
            self.send_json(200, {"pid": os.getpid()})
        elif url.path == "/stream":
            pieces, size = int(q.get("pieces", "1")), int(q.get("bytes", "1"))
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(pieces):
                self.wfile.write(b"%x\r\n%s\r\n" % (size, b"x" * size))
            self.wfile.write(b"0\r\n\r\n")
        elif url.path == "/early-hints":
            self.wfile.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")
            self.send_json(200, {"pid": os.getpid()})
        else:
            self.send_json(404, {"error": "no route"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        url = urlparse(self.path)
        if url.path == "/crash":
            os._exit(3)
        if url.path == "/hang-up":
            self.hang_up_once({k: v[0] for k, v in parse_qs(url.query).items()})
            return
        if self.path == "/echo":
            self.send_json(200, {"pid": os.getpid(), "body": body.decode(),
                                 "headers": {k.lower(): v for k, v in self.headers.items()}})
        else:
            self.send_json(404, {"error": "no route"})


def main():
    gate = os.environ.get("PORT_APP_BIND_AFTER")
    while gate and not os.path.exists(gate):
        time.sleep(0.01)
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
