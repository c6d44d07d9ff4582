package main

import (
	"fmt"
	"math"
)

// The store itself, with no HTTP in it: corral-shop's 500-product catalogue
// (the same names, prices and stock for every id) and its checkout pricing.

type product struct {
	ID         int    `json:"id"`
	Name       string `json:"name"`
	Category   string `json:"category"`
	PriceCents int64  `json:"price_cents"`
	Price      string `json:"price"`
	Stock      int    `json:"stock"`
}

type quoteLine struct {
	ID            int    `json:"id"`
	Name          string `json:"name"`
	Quantity      int    `json:"quantity"`
	UnitCents     int64  `json:"unit_cents"`
	SubtotalCents int64  `json:"subtotal_cents"`
	DiscountCents int64  `json:"discount_cents"`
	TaxCents      int64  `json:"tax_cents"`
	TotalCents    int64  `json:"total_cents"`
}

type quote struct {
	Lines         []quoteLine `json:"lines"`
	ItemCount     int         `json:"item_count"`
	SubtotalCents int64       `json:"subtotal_cents"`
	DiscountCents int64       `json:"discount_cents"`
	TaxCents      int64       `json:"tax_cents"`
	TotalCents    int64       `json:"total_cents"`
	Total         string      `json:"total"`
	Payment       string      `json:"payment,omitempty"`
}

// cart is a checkout body; ids and quantities are floats so that 2.5 is told
// apart from 2 and reported.
type cart struct {
	Items []struct {
		ID       float64 `json:"id"`
		Quantity float64 `json:"quantity"`
	} `json:"items"`
}

// storeError carries the HTTP status a request that cannot be served gets.
type storeError struct {
	status  int
	message string
}

func (e *storeError) Error() string { return e.message }

func errorf(status int, format string, args ...any) *storeError {
	return &storeError{status, fmt.Sprintf(format, args...)}
}

type category struct {
	name     string
	min, max int64
	nouns    [8]string
}

var categories = [8]category{
	{"Books", 6, 60, [8]string{"Novel", "Cookbook", "Atlas", "Journal", "Field Guide", "Anthology", "Notebook", "Almanac"}},
	{"Kitchen", 9, 240, [8]string{"Skillet", "Kettle", "Chef's Knife", "Cutting Board", "Teapot", "Mixing Bowl", "Colander", "Saucepan"}},
	{"Electronics", 19, 999, [8]string{"Headphones", "Speaker", "Keyboard", "Webcam", "Charger", "Power Bank", "Monitor", "Router"}},
	{"Garden", 5, 180, [8]string{"Trowel", "Watering Can", "Planter", "Pruner", "Hose Reel", "Seed Kit", "Rake", "Bird Feeder"}},
	{"Outdoors", 12, 650, [8]string{"Tent", "Backpack", "Sleeping Bag", "Lantern", "Water Bottle", "Camp Stove", "Hammock", "Compass"}},
	{"Home", 8, 400, [8]string{"Lamp", "Throw Blanket", "Cushion", "Mirror", "Clock", "Vase", "Rug", "Bookshelf"}},
	{"Toys", 4, 120, [8]string{"Puzzle", "Kite", "Building Set", "Yo-Yo", "Board Game", "Plush Bear", "Train Set", "Spinning Top"}},
	{"Apparel", 7, 220, [8]string{"Scarf", "Beanie", "Rain Jacket", "Hoodie", "Socks", "Gloves", "Sweater", "Cap"}},
}

var adjectives = [16]string{"Classic", "Compact", "Deluxe", "Rustic", "Modern", "Sturdy", "Vintage", "Handmade",
	"Bright", "Quiet", "Nimble", "Cozy", "Everyday", "Premium", "Travel", "Bold"}

var centEndings = [4]int64{99, 49, 95, 0}

const (
	taxPercent   = 8.25
	bulkItems    = 10 // a line of this many items or more gets the bulk discount
	bulkPercent  = 5
	maxLines     = 100
	maxQuantity  = 1000
	catalogueLen = 500
)

var products = generate()

// mix is splitmix64, as corral-shop computes it, so that every id names the
// same product.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func generate() []product {
	all := make([]product, 0, catalogueLen)
	for i := 0; i < catalogueLen; i++ {
		c := categories[i%8]
		j := i / 8
		noun := j % 8
		r := mix(uint64(i + 1))
		cents := (c.min+int64(r%uint64(c.max-c.min+1)))*100 + centEndings[(r>>16)%4]
		all = append(all, product{
			ID:         i + 1,
			Name:       adjectives[(2*(j/8)+noun)%16] + " " + c.nouns[noun],
			Category:   c.name,
			PriceCents: cents,
			Price:      formatCents(cents),
			Stock:      10 + int((r>>32)%491),
		})
	}
	return all
}

func formatCents(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

// percentOf is a percentage of an amount in cents, rounded half up, as
// corral-shop rounds it.
func percentOf(cents int64, percent float64) int64 {
	return (cents*int64(math.Round(percent*10000)) + 500000) / 1000000
}

func findProduct(id int) *product {
	if id < 1 || id > len(products) {
		return nil
	}
	return &products[id-1]
}

func productsPage(page, perPage int) (map[string]any, error) {
	if page < 1 {
		return nil, errorf(400, "page must be a positive integer")
	}
	if perPage < 1 || perPage > 100 {
		return nil, errorf(400, "per_page must be an integer from 1 to 100")
	}
	first := len(products)
	if page <= len(products) { // no overflow for a huge page number
		first = min((page-1)*perPage, len(products))
	}
	return map[string]any{
		"page": page, "per_page": perPage, "total": len(products),
		"pages": (len(products) + perPage - 1) / perPage,
		"items": products[first:min(first+perPage, len(products))],
	}, nil
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func wholePositive(v float64) bool { return v >= 1 && v == math.Trunc(v) }

// priceCart prices a cart such as {"items":[{"id":1,"quantity":2}]}.
func priceCart(c cart) (*quote, error) {
	if len(c.Items) == 0 {
		return nil, errorf(400, "items must be a non-empty array")
	}
	if len(c.Items) > maxLines {
		return nil, errorf(400, "at most %d lines are allowed", maxLines)
	}
	q := &quote{Lines: []quoteLine{}}
	wanted := map[int]int{}
	for i, item := range c.Items {
		if !wholePositive(item.ID) || item.ID > math.MaxInt32 {
			return nil, errorf(400, "items[%d].id must be a positive integer", i)
		}
		if !wholePositive(item.Quantity) || item.Quantity > maxQuantity {
			return nil, errorf(400, "items[%d].quantity must be an integer from 1 to %d", i, maxQuantity)
		}
		id, quantity := int(item.ID), int(item.Quantity)
		p := findProduct(id)
		if p == nil {
			return nil, errorf(404, "unknown product %d", id)
		}
		wanted[id] += quantity
		if wanted[id] > p.Stock {
			return nil, errorf(409, "only %d of product %d in stock; the cart asks for %d", p.Stock, id, wanted[id])
		}
		subtotal := p.PriceCents * int64(quantity)
		var discount int64
		if quantity >= bulkItems {
			discount = percentOf(subtotal, bulkPercent)
		}
		tax := percentOf(subtotal-discount, taxPercent)
		line := quoteLine{id, p.Name, quantity, p.PriceCents, subtotal, discount, tax, subtotal - discount + tax}
		q.Lines = append(q.Lines, line)
		q.ItemCount += quantity
		q.SubtotalCents += line.SubtotalCents
		q.DiscountCents += line.DiscountCents
		q.TaxCents += line.TaxCents
		q.TotalCents += line.TotalCents
	}
	q.Total = formatCents(q.TotalCents)
	return q, nil
}
