package main

import "math/bits"

// Histogram counts latencies in microseconds in log-linear buckets, as HDR
// histograms do: values below 128 exactly, above that 64 buckets per power of
// two (at most 1.6% wide), so histograms of several processes add up into
// the histogram of the union and its percentiles are computed, not averaged.
type Histogram struct {
	Counts map[int]uint64 `json:"counts"` // bucket index -> count; sparse
	Total  uint64         `json:"total"`
}

func NewHistogram() *Histogram { return &Histogram{Counts: map[int]uint64{}} }

// bucketOf is the bucket index of a value.
func bucketOf(us uint64) int {
	shift := bits.Len64(us) - 7 // us>>shift falls in [64, 128)
	if shift <= 0 {
		return int(us)
	}
	return 128 + (shift-1)*64 + int(us>>uint(shift)) - 64
}

// valueOf is the middle of a bucket: the value a percentile falling in it reports.
func valueOf(index int) uint64 {
	if index < 128 {
		return uint64(index)
	}
	shift := uint((index-128)/64 + 1)
	mantissa := uint64((index-128)%64 + 64)
	return mantissa<<shift + (uint64(1)<<shift)/2
}

func (h *Histogram) Record(us uint64) {
	h.Counts[bucketOf(us)]++
	h.Total++
}

func (h *Histogram) Add(o *Histogram) {
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
	h.Total += o.Total
}

// Percentile is the value below which the share q (0..1) of the counts fall,
// in microseconds; 0 for an empty histogram.
func (h *Histogram) Percentile(q float64) uint64 {
	if h.Total == 0 {
		return 0
	}
	top := 0
	for i := range h.Counts {
		if i > top {
			top = i
		}
	}
	want := uint64(q*float64(h.Total) + 0.5)
	if want < 1 {
		want = 1
	}
	var seen uint64
	for i := 0; i <= top; i++ {
		seen += h.Counts[i]
		if seen >= want {
			return valueOf(i)
		}
	}
	return valueOf(top)
}
