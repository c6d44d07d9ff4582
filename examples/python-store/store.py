"""The store itself, with no HTTP in it: corral-shop's 500-product catalogue
(the same names, prices and stock for every id) and its checkout pricing."""

CATEGORIES = [
    ('Books', 6, 60, ['Novel', 'Cookbook', 'Atlas', 'Journal', 'Field Guide', 'Anthology', 'Notebook', 'Almanac']),
    ('Kitchen', 9, 240, ['Skillet', 'Kettle', "Chef's Knife", 'Cutting Board', 'Teapot', 'Mixing Bowl', 'Colander', 'Saucepan']),
    ('Electronics', 19, 999, ['Headphones', 'Speaker', 'Keyboard', 'Webcam', 'Charger', 'Power Bank', 'Monitor', 'Router']),
    ('Garden', 5, 180, ['Trowel', 'Watering Can', 'Planter', 'Pruner', 'Hose Reel', 'Seed Kit', 'Rake', 'Bird Feeder']),
    ('Outdoors', 12, 650, ['Tent', 'Backpack', 'Sleeping Bag', 'Lantern', 'Water Bottle', 'Camp Stove', 'Hammock', 'Compass']),
    ('Home', 8, 400, ['Lamp', 'Throw Blanket', 'Cushion', 'Mirror', 'Clock', 'Vase', 'Rug', 'Bookshelf']),
    ('Toys', 4, 120, ['Puzzle', 'Kite', 'Building Set', 'Yo-Yo', 'Board Game', 'Plush Bear', 'Train Set', 'Spinning Top']),
    ('Apparel', 7, 220, ['Scarf', 'Beanie', 'Rain Jacket', 'Hoodie', 'Socks', 'Gloves', 'Sweater', 'Cap']),
]
ADJECTIVES = ['Classic', 'Compact', 'Deluxe', 'Rustic', 'Modern', 'Sturdy', 'Vintage', 'Handmade',
              'Bright', 'Quiet', 'Nimble', 'Cozy', 'Everyday', 'Premium', 'Travel', 'Bold']
CENT_ENDINGS = [99, 49, 95, 0]
TAX_PERCENT = 8.25
BULK_ITEMS = 10  # a line of this many items or more gets the bulk discount
BULK_PERCENT = 5
MAX_LINES = 100
MAX_QUANTITY = 1000
MASK64 = (1 << 64) - 1


class StoreError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _mix(x):
    """splitmix64, as corral-shop computes it, so that every id names the same product."""
    x = (x + 0x9e3779b97f4a7c15) & MASK64
    x = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & MASK64
    return x ^ (x >> 31)


def format_cents(cents):
    return '%d.%02d' % divmod(cents, 100)


def percent_of(cents, percent):
    """A percentage of an amount in cents, rounded half up, as corral-shop rounds it."""
    return (cents * round(percent * 10000) + 500000) // 1000000


def _generate():
    products = []
    for i in range(500):
        category, low, high, nouns = CATEGORIES[i % 8]
        j = i // 8
        noun = j % 8
        r = _mix(i + 1)
        price_cents = (low + r % (high - low + 1)) * 100 + CENT_ENDINGS[(r >> 16) % 4]
        products.append({
            'id': i + 1,
            'name': '%s %s' % (ADJECTIVES[(2 * (j // 8) + noun) % 16], nouns[noun]),
            'category': category,
            'price_cents': price_cents,
            'price': format_cents(price_cents),
            'stock': 10 + (r >> 32) % 491,
        })
    return products


PRODUCTS = _generate()


def find_product(product_id):
    return PRODUCTS[product_id - 1] if 1 <= product_id <= len(PRODUCTS) else None


def products_page(page, per_page):
    if page < 1:
        raise StoreError(400, 'page must be a positive integer')
    if not 1 <= per_page <= 100:
        raise StoreError(400, 'per_page must be an integer from 1 to 100')
    first = (page - 1) * per_page
    return {'page': page, 'per_page': per_page, 'total': len(PRODUCTS),
            'pages': -(-len(PRODUCTS) // per_page), 'items': PRODUCTS[first:first + per_page]}


def _positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def price_cart(cart):
    """Prices a cart such as {"items": [{"id": 1, "quantity": 2}]}; raises
    StoreError for a cart that cannot be priced."""
    items = cart.get('items') if isinstance(cart, dict) else None
    if not isinstance(items, list) or not items:
        raise StoreError(400, 'items must be a non-empty array')
    if len(items) > MAX_LINES:
        raise StoreError(400, 'at most %d lines are allowed' % MAX_LINES)
    quote = {'lines': [], 'item_count': 0, 'subtotal_cents': 0, 'discount_cents': 0,
             'tax_cents': 0, 'total_cents': 0}
    wanted = {}
    for i, item in enumerate(items):
        item = item if isinstance(item, dict) else {}
        product_id, quantity = item.get('id'), item.get('quantity')
        if not _positive_int(product_id):
            raise StoreError(400, 'items[%d].id must be a positive integer' % i)
        if not (_positive_int(quantity) and quantity <= MAX_QUANTITY):
            raise StoreError(400, 'items[%d].quantity must be an integer from 1 to %d' % (i, MAX_QUANTITY))
        product = find_product(product_id)
        if product is None:
            raise StoreError(404, 'unknown product %d' % product_id)
        wanted[product_id] = wanted.get(product_id, 0) + quantity
        if wanted[product_id] > product['stock']:
            raise StoreError(409, 'only %d of product %d in stock; the cart asks for %d'
                             % (product['stock'], product_id, wanted[product_id]))
        subtotal = product['price_cents'] * quantity
        discount = percent_of(subtotal, BULK_PERCENT) if quantity >= BULK_ITEMS else 0
        tax = percent_of(subtotal - discount, TAX_PERCENT)
        line = {'id': product_id, 'name': product['name'], 'quantity': quantity,
                'unit_cents': product['price_cents'], 'subtotal_cents': subtotal,
                'discount_cents': discount, 'tax_cents': tax, 'total_cents': subtotal - discount + tax}
        quote['lines'].append(line)
        quote['item_count'] += quantity
        for key in ('subtotal_cents', 'discount_cents', 'tax_cents', 'total_cents'):
            quote[key] += line[key]
    quote['total'] = format_cents(quote['total_cents'])
    return quote
