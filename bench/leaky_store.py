"""The Python example (examples/python-store) made to leak, for bench/leak.sh
only: the same WSGI app behind a wrapper that keeps $LEAK_KB (default 256)
KiB for good on every request, filled so the pages are really resident, as
e2e/apps/leaky_app.js does for the Node runners. `?ms=N` waits N ms before
the store answers, so every runner sees the same request rate, and with it
the same leak rate. The example itself stays clean for its users."""
import os
import time
from urllib.parse import parse_qs

import app  # examples/python-store/app.py, on gunicorn's --pythonpath

LEAK_BYTES = int(os.environ.get('LEAK_KB', '256')) * 1024
_kept = []


def application(environ, start_response):
    _kept.append(b'\x01' * LEAK_BYTES)
    ms = parse_qs(environ.get('QUERY_STRING', '')).get('ms', ['0'])[0]
    if ms.isdigit() and int(ms) > 0:
        time.sleep(int(ms) / 1000)
    return app.application(environ, start_response)
