package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func shop(addr string, think, duration, timeout time.Duration) *Window {
	r := run(options{users: 4, think: think, duration: duration, timeout: timeout, addrs: []string{addr}, seed: 7})
	return r.Windows[0]
}

func TestAnswersAreRecordedByRequestClassAndStatusClass(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Method == "POST" && r.URL.Path == "/checkout" {
			w.Header().Set("Connection", "close") // as a shedding server might
			w.WriteHeader(503)
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/products/") {
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	w := shop(srv.Listener.Addr().String(), 5*time.Millisecond, 400*time.Millisecond, 2*time.Second)
	if w.Sent[Browse] == 0 || w.Sent[Checkout] == 0 {
		t.Fatalf("sent %v, want both classes", w.Sent)
	}
	if got := w.merged(Browse + "/2xx").Total; got != w.Sent[Browse] {
		t.Errorf("browse 2xx %d, sent %d", got, w.Sent[Browse])
	}
	if got := w.merged(Checkout + "/503").Total; got != w.Sent[Checkout] {
		t.Errorf("checkout 503 %d, sent %d", got, w.Sent[Checkout])
	}
	if len(w.Errors) != 0 || len(w.Timeouts) != 0 {
		t.Errorf("errors %v, timeouts %v; want none", w.Errors, w.Timeouts)
	}
}

func TestAnIdleConnectionTheServerClosedIsAReconnectNotAnError(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.IdleTimeout = 2 * time.Millisecond
	srv.Start()
	defer srv.Close()
	// Users think about 50 ms: nearly every click finds its connection closed.
	w := shop(srv.Listener.Addr().String(), 50*time.Millisecond, 600*time.Millisecond, 2*time.Second)
	ok := w.merged(Browse+"/2xx", Checkout+"/2xx").Total
	if ok < 20 || len(w.Errors) != 0 {
		t.Errorf("%d answered, errors %v (%v); want all answered", ok, w.Errors, w.ErrorSamples)
	}
	// A close seen while thinking is a new connection, not a retry: only a
	// close crossing the request on the wire is retried.
	if retried := w.Retried[Browse] + w.Retried[Checkout]; 4*retried > ok {
		t.Errorf("%d of %d requests retried; want the closes seen before clicking", retried, ok)
	}
}

// serveThenClose answers the first request of each connection and closes
// the connection when the second arrives, unanswered. fresh is how many
// connections were accepted.
func serveThenClose(t *testing.T, answerFirst bool, fresh *int64) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			atomic.AddInt64(fresh, 1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil || !answerFirst {
					return
				}
				io.Copy(io.Discard, req.Body)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
				http.ReadRequest(br) // the second: closed unanswered
			}()
		}
	}()
	return ln.Addr().String()
}

func TestARequestOnAReusedConnectionClosedUnderItIsSentAgain(t *testing.T) {
	var fresh int64
	w := shop(serveThenClose(t, true, &fresh), time.Millisecond, 200*time.Millisecond, 2*time.Second)
	ok := w.merged(Browse+"/2xx", Checkout+"/2xx").Total
	retried := w.Retried[Browse] + w.Retried[Checkout]
	if ok < 20 || len(w.Errors) != 0 || retried == 0 {
		t.Errorf("%d answered, %d retried, errors %v (%v); want every request answered, after a retry", ok, retried, w.Errors, w.ErrorSamples)
	}
}

func TestANewConnectionClosedBeforeAnsweringIsAnErrorNotRetried(t *testing.T) {
	var fresh int64
	w := shop(serveThenClose(t, false, &fresh), time.Millisecond, 100*time.Millisecond, 2*time.Second)
	sent := w.Sent[Browse] + w.Sent[Checkout]
	if sent == 0 || w.Errors["read"] != sent || len(w.Retried) != 0 || uint64(atomic.LoadInt64(&fresh)) != sent {
		t.Errorf("sent %d, errors %v, retried %v, connections %d; want each request one read error on one connection", sent, w.Errors, w.Retried, fresh)
	}
}

func TestASilentServerGivesTimeouts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it, answer nothing
		}
	}()
	w := shop(ln.Addr().String(), time.Millisecond, 50*time.Millisecond, 100*time.Millisecond)
	var timeouts uint64
	for _, n := range w.Timeouts {
		timeouts += n
	}
	if timeouts == 0 || timeouts != w.Sent[Browse]+w.Sent[Checkout] {
		t.Errorf("timeouts %v of sent %v; want every request", w.Timeouts, w.Sent)
	}
}

func TestARefusedConnectionIsAConnectError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	w := shop(addr, time.Millisecond, 50*time.Millisecond, time.Second)
	if w.Errors["connect"] == 0 || w.Errors["connect"] != w.Sent[Browse]+w.Sent[Checkout] {
		t.Errorf("errors %v of sent %v; want every request a connect error", w.Errors, w.Sent)
	}
}

func TestTheOnsetIsAWindowOfItsOwn(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	r := run(options{users: 4, think: 10 * time.Millisecond, duration: 300 * time.Millisecond,
		arrive: 20 * time.Millisecond, reportFirst: 100 * time.Millisecond,
		timeout: time.Second, addrs: []string{srv.Listener.Addr().String()}, seed: 3})
	if len(r.Windows) != 2 || r.Windows[0].Name != "first" || r.Windows[1].Name != "rest" {
		t.Fatalf("windows %+v", r.Windows)
	}
	for _, w := range r.Windows {
		if w.Sent[Browse]+w.Sent[Checkout] == 0 {
			t.Errorf("window %s saw no requests", w.Name)
		}
	}
	if r.Windows[0].Seconds != 0.1 || r.Windows[1].Seconds != 0.2 {
		t.Errorf("window lengths %v and %v s", r.Windows[0].Seconds, r.Windows[1].Seconds)
	}
}
