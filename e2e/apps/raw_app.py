#!/usr/bin/env python3
"""A backend for the hostile-input tests, on 127.0.0.1:$PORT: it parses
each request by hand (head, then a Content-Length body), writes what it
parsed as one JSON line to $RAW_APP_LOG, and answers with bytes of its
choosing, so the tests see both what reached the app and what corral makes
of answers no good app would send.

/echo           200, JSON: the method, target and header fields received
/big?bytes=N    200 with a body of N bytes
/ws             101 Switching Protocols, then echoes bytes until closed
/raw/NAME       the answer named in RAW below, written as is
"""
import json
import os
import socket
import socketserver
import sys
from urllib.parse import parse_qs, urlparse

RAW = {
    # Transfer-Encoding beside Content-Length, then a second answer that a
    # connection framed by the Content-Length would hand to another request.
    "te-gzip-cl": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
                  b"Content-Length: 5\r\n\r\nhello"
                  b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret",
    "chunked-chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked"
                       b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "gzip-chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
                    b"\r\n5\r\nhello\r\n0\r\n\r\n",
    "bad-chunk-size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"zz\r\nhello\r\n0\r\n\r\n",
    "big-trailer": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"5\r\nhello\r\n0\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n",
    "long-chunk-ext": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"5;" + b"e" * (1 << 20) + b"\r\nhello\r\n0\r\n\r\n",
}


def log(entry):
    with open(os.environ["RAW_APP_LOG"], "a") as f:
        f.write(json.dumps(entry) + "\n")


class Handler(socketserver.BaseRequestHandler):
    def read_request(self, buf):
        while b"\r\n\r\n" not in buf:
            data = self.request.recv(65536)
            if not data:
                return None, buf
            buf += data
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = [line.split(":", 1) for line in lines[1:]]
        headers = [[k, v.strip()] for k, v in headers]
        length = sum(int(v) for k, v in headers if k.lower() == "content-length")
        while len(buf) < length:
            data = self.request.recv(65536)
            if not data:
                return None, buf
            buf += data
        body, buf = buf[:length], buf[length:]
        return {"method": method, "target": target, "headers": headers,
                "body": body.decode("latin-1")}, buf

    def handle(self):
        buf = b""
        while True:
            req, buf = self.read_request(buf)
            if req is None:
                return
            log(req)
            url = urlparse(req["target"])
            if url.path == "/echo":
                self.send_body(json.dumps(req).encode())
            elif url.path == "/big":
                n = int(parse_qs(url.query)["bytes"][0])
                self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d"
                                     b"\r\n\r\n" % n)
                piece = b"x" * 65536
                try:
                    while n > 0:
                        self.request.sendall(piece[:n])
                        n -= min(n, len(piece))
                except OSError:
                    return
            elif url.path == "/ws":
                self.request.sendall(b"HTTP/1.1 101 Switching Protocols\r\n"
                                     b"Connection: Upgrade\r\n"
                                     b"Upgrade: websocket\r\n\r\n")
                while True:
                    data = self.request.recv(65536)
                    if not data:
                        return
                    self.request.sendall(data)
            elif url.path.startswith("/raw/"):
                self.request.sendall(RAW[url.path[5:]])
            else:
                self.send_body(b"{}", 404)

    def send_body(self, body, status=200):
        self.request.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/json"
                             b"\r\nContent-Length: %d\r\n\r\n%s"
                             % (status, len(body), body))


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def main():
    Server(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()


if __name__ == "__main__":
    sys.exit(main())
