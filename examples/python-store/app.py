"""corral-shop's store as a WSGI app. Nothing in it knows about corral: the
corral side (the inherited socket, readiness, the drain) lives in
gunicorn.conf.py."""
import json
import os
import re
import time
from urllib.parse import parse_qs

import store

PAYMENT_LATENCY_S = 0.05  # the simulated payment provider
MAX_BODY_BYTES = 64 * 1024


def _read_banner():
    # corral's config dir never changes under a running process: read it once.
    try:
        with open(os.path.join(os.environ['CORRAL_CONFIG_DIR'], 'banner')) as f:
            return f.read().strip()
    except (KeyError, OSError):
        return None


BANNER = _read_banner()


def _int_param(query, name, default):
    value = query.get(name, [str(default)])[0]
    if not value.isdigit():
        raise store.StoreError(400, '%s must be a positive integer' % name)
    return int(value)


def _route(method, path, environ):
    if method == 'GET' and path == '/':
        return {'store': 'corral python-store', 'banner': BANNER, 'pid': os.getpid(),
                'worker': os.environ.get('CORRAL_WORKER'), 'workers': os.environ.get('CORRAL_WORKERS'),
                'config_generation': os.environ.get('CORRAL_CONFIG_GENERATION')}
    if method == 'GET' and path == '/products':
        query = parse_qs(environ.get('QUERY_STRING', ''))
        return store.products_page(_int_param(query, 'page', 1), _int_param(query, 'per_page', 20))
    match = re.fullmatch(r'/products/([^/]+)', path)
    if method == 'GET' and match:
        if not match.group(1).isdigit():
            raise store.StoreError(400, 'product id must be a positive integer')
        product = store.find_product(int(match.group(1)))
        if product is None:
            raise store.StoreError(404, 'unknown product %s' % match.group(1))
        return product
    if method == 'POST' and path == '/checkout':
        length = int(environ.get('CONTENT_LENGTH') or 0)
        if length > MAX_BODY_BYTES:
            raise store.StoreError(413, 'body too large')
        try:
            cart = json.loads(environ['wsgi.input'].read(length))
        except ValueError:
            raise store.StoreError(400, 'body is not valid JSON') from None
        quote = store.price_cart(cart)
        time.sleep(PAYMENT_LATENCY_S)  # one of gunicorn's threads waits; the others serve
        return dict(quote, payment='approved')
    raise store.StoreError(404, 'no such route')


def application(environ, start_response):
    try:
        status, body = 200, _route(environ['REQUEST_METHOD'], environ['PATH_INFO'], environ)
    except store.StoreError as e:
        status, body = e.status, {'error': str(e), 'status': e.status}
    data = json.dumps(body).encode()
    start_response('%d %s' % (status, _REASONS.get(status, '')),
                   [('Content-Type', 'application/json'), ('Content-Length', str(len(data))),
                    ('X-Worker-Pid', str(os.getpid()))])
    return [data]


_REASONS = {200: 'OK', 400: 'Bad Request', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large'}
