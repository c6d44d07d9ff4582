// The store itself, with no HTTP in it: corral-shop's 500-product catalogue
// (the same names, prices and stock for every id) and its checkout pricing.
'use strict';

const CATEGORIES = [
  ['Books', 6, 60, ['Novel', 'Cookbook', 'Atlas', 'Journal', 'Field Guide', 'Anthology', 'Notebook', 'Almanac']],
  ['Kitchen', 9, 240, ['Skillet', 'Kettle', "Chef's Knife", 'Cutting Board', 'Teapot', 'Mixing Bowl', 'Colander', 'Saucepan']],
  ['Electronics', 19, 999, ['Headphones', 'Speaker', 'Keyboard', 'Webcam', 'Charger', 'Power Bank', 'Monitor', 'Router']],
  ['Garden', 5, 180, ['Trowel', 'Watering Can', 'Planter', 'Pruner', 'Hose Reel', 'Seed Kit', 'Rake', 'Bird Feeder']],
  ['Outdoors', 12, 650, ['Tent', 'Backpack', 'Sleeping Bag', 'Lantern', 'Water Bottle', 'Camp Stove', 'Hammock', 'Compass']],
  ['Home', 8, 400, ['Lamp', 'Throw Blanket', 'Cushion', 'Mirror', 'Clock', 'Vase', 'Rug', 'Bookshelf']],
  ['Toys', 4, 120, ['Puzzle', 'Kite', 'Building Set', 'Yo-Yo', 'Board Game', 'Plush Bear', 'Train Set', 'Spinning Top']],
  ['Apparel', 7, 220, ['Scarf', 'Beanie', 'Rain Jacket', 'Hoodie', 'Socks', 'Gloves', 'Sweater', 'Cap']],
];
const ADJECTIVES = ['Classic', 'Compact', 'Deluxe', 'Rustic', 'Modern', 'Sturdy', 'Vintage', 'Handmade',
  'Bright', 'Quiet', 'Nimble', 'Cozy', 'Everyday', 'Premium', 'Travel', 'Bold'];
const CENT_ENDINGS = [99, 49, 95, 0];
const TAX_PERCENT = 8.25;
const BULK_ITEMS = 10; // a line of this many items or more gets the bulk discount
const BULK_PERCENT = 5;
const MAX_LINES = 100;
const MAX_QUANTITY = 1000;

// splitmix64, as corral-shop computes it, so that every id names the same product.
function mix(i) {
  const M = (1n << 64n) - 1n;
  let x = (BigInt(i) + 0x9e3779b97f4a7c15n) & M;
  x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
  x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & M;
  return x ^ (x >> 31n);
}

const products = [];
for (let i = 0; i < 500; i++) {
  const [category, min, max, nouns] = CATEGORIES[i % 8];
  const j = Math.floor(i / 8);
  const noun = j % 8;
  const r = mix(i + 1);
  const cents = CENT_ENDINGS[Number((r >> 16n) % 4n)];
  const priceCents = (min + Number(r % BigInt(max - min + 1))) * 100 + cents;
  products.push({
    id: i + 1,
    name: `${ADJECTIVES[(2 * Math.floor(j / 8) + noun) % 16]} ${nouns[noun]}`,
    category,
    price_cents: priceCents,
    price: formatCents(priceCents),
    stock: 10 + Number((r >> 32n) % 491n),
  });
}

function formatCents(cents) {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

// A percentage of an amount in cents, rounded half up, as corral-shop rounds it.
function percentOf(cents, percent) {
  return Math.floor((cents * Math.round(percent * 10000) + 500000) / 1000000);
}

class StoreError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function findProduct(id) {
  return products[id - 1];
}

function productsPage(page, perPage) {
  if (!(Number.isInteger(page) && page >= 1)) throw new StoreError(400, 'page must be a positive integer');
  if (!(Number.isInteger(perPage) && perPage >= 1 && perPage <= 100)) {
    throw new StoreError(400, 'per_page must be an integer from 1 to 100');
  }
  const first = (page - 1) * perPage;
  return {
    page, per_page: perPage, total: products.length, pages: Math.ceil(products.length / perPage),
    items: products.slice(first, first + perPage),
  };
}

// Prices a cart such as {"items":[{"id":1,"quantity":2}]}; throws a StoreError
// for a cart that cannot be priced.
function priceCart(cart) {
  const items = cart && cart.items;
  if (!Array.isArray(items) || items.length === 0) throw new StoreError(400, 'items must be a non-empty array');
  if (items.length > MAX_LINES) throw new StoreError(400, `at most ${MAX_LINES} lines are allowed`);
  const quote = { lines: [], item_count: 0, subtotal_cents: 0, discount_cents: 0, tax_cents: 0, total_cents: 0 };
  const wanted = new Map();
  items.forEach((item, i) => {
    const { id, quantity } = item || {};
    if (!(Number.isInteger(id) && id > 0)) throw new StoreError(400, `items[${i}].id must be a positive integer`);
    if (!(Number.isInteger(quantity) && quantity > 0 && quantity <= MAX_QUANTITY)) {
      throw new StoreError(400, `items[${i}].quantity must be an integer from 1 to ${MAX_QUANTITY}`);
    }
    const product = findProduct(id);
    if (!product) throw new StoreError(404, `unknown product ${id}`);
    const total = (wanted.get(id) || 0) + quantity;
    wanted.set(id, total);
    if (total > product.stock) {
      throw new StoreError(409, `only ${product.stock} of product ${id} in stock; the cart asks for ${total}`);
    }
    const subtotal = product.price_cents * quantity;
    const discount = quantity >= BULK_ITEMS ? percentOf(subtotal, BULK_PERCENT) : 0;
    const tax = percentOf(subtotal - discount, TAX_PERCENT);
    const line = {
      id, name: product.name, quantity, unit_cents: product.price_cents, subtotal_cents: subtotal,
      discount_cents: discount, tax_cents: tax, total_cents: subtotal - discount + tax,
    };
    quote.lines.push(line);
    quote.item_count += quantity;
    quote.subtotal_cents += line.subtotal_cents;
    quote.discount_cents += line.discount_cents;
    quote.tax_cents += line.tax_cents;
    quote.total_cents += line.total_cents;
  });
  quote.total = formatCents(quote.total_cents);
  return quote;
}

module.exports = { StoreError, findProduct, productsPage, priceCart };
