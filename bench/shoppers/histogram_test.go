package main

import "testing"

func TestBucketsHoldTheirValues(t *testing.T) {
	for _, us := range []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 123456, 10_000_000, 60_000_000} {
		got := valueOf(bucketOf(us))
		diff := float64(got) - float64(us)
		if diff < 0 {
			diff = -diff
		}
		if diff > float64(us)*0.016+0.5 {
			t.Errorf("value %d lands in a bucket reported as %d", us, got)
		}
	}
}

func TestBucketsAreOrdered(t *testing.T) {
	last := -1
	for us := uint64(0); us < 1_000_000; us += 7 {
		b := bucketOf(us)
		if b < last {
			t.Fatalf("bucket of %d is %d, below the previous %d", us, b, last)
		}
		last = b
	}
}

func TestPercentilesOfMergedHistograms(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	for i := 0; i < 101; i++ {
		a.Record(1000) // 1 ms
	}
	b.Record(5_000_000) // one answer of 5 s in the other process
	for i := 0; i < 100; i++ {
		b.Record(2000)
	}
	a.Add(b)
	if a.Total != 202 {
		t.Fatalf("total %d, want 202", a.Total)
	}
	if p50 := a.Percentile(0.5); p50 < 990 || p50 > 1010 {
		t.Errorf("p50 %d us, want about 1000", p50)
	}
	if p99 := a.Percentile(0.99); p99 < 1980 || p99 > 2020 {
		t.Errorf("p99 %d us, want about 2000", p99)
	}
	if max := a.Percentile(1); max < 4_900_000 {
		t.Errorf("max %d us, want about 5 s", max)
	}
}
