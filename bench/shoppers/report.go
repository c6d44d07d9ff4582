package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// Classes of request and of answer; a histogram per pair.
const (
	Browse   = "browse"   // GET /products/{id}
	Checkout = "checkout" // POST /checkout
)

var requestClasses = []string{Browse, Checkout}

// statusClass groups an answer's status the way the table reads it.
func statusClass(code int) string {
	switch {
	case code >= 200 && code < 300:
		return "2xx"
	case code == 503:
		return "503"
	default:
		return "other"
	}
}

// Window is what happened to the requests sent within a span of the run,
// whenever they were answered: the onset (the first -report-first seconds)
// reads apart from the rest.
type Window struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
	// Sent counts requests by class; Latency holds the answered ones by
	// "class/status class" (browse/2xx, checkout/503, ...).
	Sent    map[string]uint64     `json:"sent"`
	Latency map[string]*Histogram `json:"latency"`
	// Requests that got no answer: Timeouts by request class (no answer
	// within -timeout, connecting included), Errors by socket error kind
	// (connect, write, read: reset or closed before the answer).
	Timeouts map[string]uint64 `json:"timeouts"`
	Errors   map[string]uint64 `json:"errors"`
	// Retried counts by class the requests sent a second time because a
	// reused connection closed before any byte of the answer (a browser
	// does the same); the outcome of the second try is what is counted.
	Retried map[string]uint64 `json:"retried"`
	// The first error message seen of each kind, to tell a refused connect
	// from a reset one.
	ErrorSamples map[string]string `json:"error_samples"`
}

func NewWindow(name string, seconds float64) *Window {
	return &Window{Name: name, Seconds: seconds, Sent: map[string]uint64{},
		Latency: map[string]*Histogram{}, Timeouts: map[string]uint64{}, Errors: map[string]uint64{}, Retried: map[string]uint64{}, ErrorSamples: map[string]string{}}
}

func (w *Window) histogram(key string) *Histogram {
	h := w.Latency[key]
	if h == nil {
		h = NewHistogram()
		w.Latency[key] = h
	}
	return h
}

// Add folds another process's window of the same name into this one.
func (w *Window) Add(o *Window) {
	if o.Seconds > w.Seconds {
		w.Seconds = o.Seconds
	}
	for k, v := range o.Sent {
		w.Sent[k] += v
	}
	for k, h := range o.Latency {
		w.histogram(k).Add(h)
	}
	for k, v := range o.Timeouts {
		w.Timeouts[k] += v
	}
	for k, v := range o.Errors {
		w.Errors[k] += v
	}
	for k, v := range o.Retried {
		w.Retried[k] += v
	}
	for k, v := range o.ErrorSamples {
		if w.ErrorSamples[k] == "" {
			w.ErrorSamples[k] = v
		}
	}
}

// Report is one generator process's output: its options and its windows.
type Report struct {
	Users   int       `json:"users"`
	Think   float64   `json:"think_s"`
	Windows []*Window `json:"windows"`
}

// merged adds up the histograms of the given keys.
func (w *Window) merged(keys ...string) *Histogram {
	h := NewHistogram()
	for _, k := range keys {
		if o := w.Latency[k]; o != nil {
			h.Add(o)
		}
	}
	return h
}

// Summary is the line the bench script reads: key=value pairs, times in ms.
func (w *Window) Summary() string {
	ok := w.merged(Browse+"/2xx", Checkout+"/2xx")
	shed := w.merged(Browse+"/503", Checkout+"/503")
	other := w.merged(Browse+"/other", Checkout+"/other")
	var sent, timeouts, errors, retried uint64
	for _, c := range requestClasses {
		sent += w.Sent[c]
		timeouts += w.Timeouts[c]
		retried += w.Retried[c]
	}
	for _, v := range w.Errors {
		errors += v
	}
	checkoutOK := w.merged(Checkout + "/2xx").Total
	pct := func(n, of uint64) float64 {
		if of == 0 {
			return 0
		}
		return 100 * float64(n) / float64(of)
	}
	perSecond := func(n uint64) float64 {
		if w.Seconds <= 0 {
			return 0
		}
		return float64(n) / w.Seconds
	}
	ms := func(us uint64) float64 { return float64(us) / 1000 }
	fields := []string{
		fmt.Sprintf("window=%s", w.Name),
		fmt.Sprintf("seconds=%.1f", w.Seconds),
		fmt.Sprintf("sent=%d", sent),
		fmt.Sprintf("answers_per_s=%.0f", perSecond(ok.Total+shed.Total+other.Total)),
		fmt.Sprintf("goodput=%.0f", perSecond(ok.Total)),
		fmt.Sprintf("ok=%d", ok.Total),
		fmt.Sprintf("ok_p50_ms=%.1f", ms(ok.Percentile(0.5))),
		fmt.Sprintf("ok_p99_ms=%.1f", ms(ok.Percentile(0.99))),
		fmt.Sprintf("checkouts=%d", w.Sent[Checkout]),
		fmt.Sprintf("checkouts_ok=%d", checkoutOK),
		fmt.Sprintf("checkout_pct=%.2f", pct(checkoutOK, w.Sent[Checkout])),
		fmt.Sprintf("browse_ok_pct=%.2f", pct(w.merged(Browse+"/2xx").Total, w.Sent[Browse])),
		fmt.Sprintf("n503=%d", shed.Total),
		fmt.Sprintf("p99_503_ms=%.1f", ms(shed.Percentile(0.99))),
		fmt.Sprintf("other_status=%d", other.Total),
		fmt.Sprintf("timeouts=%d", timeouts),
		fmt.Sprintf("errors=%d", errors),
		fmt.Sprintf("errors_cwr=%d/%d/%d", w.Errors["connect"], w.Errors["write"], w.Errors["read"]),
		fmt.Sprintf("retried=%d", retried),
	}
	return strings.Join(fields, " ")
}

// merge reads the reports of several processes and prints one summary line
// per window, percentiles from the added histograms.
func merge(paths []string, out io.Writer) error {
	var order []string
	windows := map[string]*Window{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var r Report
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		for _, w := range r.Windows {
			if windows[w.Name] == nil {
				order = append(order, w.Name)
				windows[w.Name] = NewWindow(w.Name, 0)
			}
			windows[w.Name].Add(w)
		}
	}
	for _, name := range order {
		fmt.Fprintln(out, windows[name].Summary())
	}
	return nil
}
