#!/usr/bin/env python3
"""An app with a capacity, for proxy mode's overload tests: it serves
SLOTS requests at a time, each taking DELAY ms (threads; past SLOTS a
request waits inside the app, as in a busy event loop or a full database
pool). Listens on 127.0.0.1:$PORT.

Run as `capacity_app.py DIR`. Files in DIR, read at each request when they
change, steer it at run time:
  delay_ms   the service time (default 20)
  slots      how many requests it serves at once (default 4)
  reset      any new content: forget the highest count so far
and it keeps there:
  max        the most requests it has held at once (arrived, not yet
             answered) since the last reset, rewritten when it grows

GET or POST /work   served as above: {"pid": ..., "in_app": n}
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]


class Control:
    def __init__(self):
        self.lock = threading.Lock()
        self.seen = {}
        self.delay = 0.020
        self.slots = 4
        self.sem = threading.BoundedSemaphore(self.slots)
        self.in_app = 0
        self.max = 0

    def changed(self, name):
        path = os.path.join(DIR, name)
        try:
            stamp = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            return None
        if self.seen.get(name) == stamp:
            return None
        self.seen[name] = stamp
        with open(path) as f:
            return f.read().strip()

    def refresh(self):
        with self.lock:
            delay = self.changed("delay_ms")
            if delay:
                self.delay = int(delay) / 1000
            slots = self.changed("slots")
            if slots and int(slots) != self.slots:
                self.slots = int(slots)
                self.sem = threading.BoundedSemaphore(self.slots)
            if self.changed("reset") is not None:
                self.max = self.in_app
                self.write_max()

    def write_max(self):
        tmp = os.path.join(DIR, "max.tmp")
        with open(tmp, "w") as f:
            f.write(str(self.max))
        os.replace(tmp, os.path.join(DIR, "max"))

    def enter(self):
        with self.lock:
            self.in_app += 1
            n = self.in_app
            if n > self.max:
                self.max = n
                self.write_max()
            return n, self.sem, self.delay

    def leave(self):
        with self.lock:
            self.in_app -= 1


control = Control()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def work(self):
        length = int(self.headers.get("Content-Length", "0"))
        if length:
            self.rfile.read(length)
        control.refresh()
        n, sem, delay = control.enter()
        try:
            with sem:
                time.sleep(delay)
        finally:
            control.leave()
        data = json.dumps({"pid": os.getpid(), "in_app": n}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = work
    do_POST = work


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 1024
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
