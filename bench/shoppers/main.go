// Command shoppers is the load of bench/shoppers.sh: N users, each on its
// own keep-alive connection, each thinking an exponential time between
// clicks, each click one request of the store's mix (3 GET /products/{id} :
// 1 POST /checkout). Unlike a closed loop (wrk), a user who gets a 503 does
// not ask again at once; unlike wrk's Lua, it sees each answer's latency by
// request class and status class. It writes one JSON report; -merge adds
// several processes' reports (one process stops at 20,000 descriptors) and
// prints a summary line per window.
//
//	shoppers -users 14000 -think 3s -duration 30s -addr 127.0.0.1:8080 -out a.json
//	shoppers -merge a.json b.json
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

type options struct {
	users       int
	think       time.Duration // mean think time; 0 is a closed loop
	duration    time.Duration // how long users start requests
	arrive      time.Duration // first clicks spread uniformly over this; 0: an exponential think
	reportFirst time.Duration // the requests sent this early form a window of their own
	timeout     time.Duration // a request unanswered this long (connecting included) is a timeout
	addrs       []string
	seed        int64
	out         string
}

func main() {
	var o options
	var addrs string
	doMerge := flag.Bool("merge", false, "add the JSON reports named as arguments and print a summary line per window")
	flag.IntVar(&o.users, "users", 100, "users, each its own connection")
	flag.DurationVar(&o.think, "think", 3*time.Second, "mean think time between a user's answer and its next click (exponential); 0 for a closed loop")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "how long users keep clicking; requests in flight at the end are waited for (up to -timeout)")
	flag.DurationVar(&o.arrive, "arrive", 0, "the users' first clicks fall uniformly within this span (the midnight onset); 0: after an exponential think")
	flag.DurationVar(&o.reportFirst, "report-first", 0, "requests sent within this long of the start are reported in a window of their own (first), the rest in another (rest)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "a request unanswered this long is a timeout; the user reconnects")
	flag.StringVar(&addrs, "addr", "127.0.0.1:8080", "host:port to connect to, or a comma-separated list the users are spread over")
	flag.Int64Var(&o.seed, "seed", 1, "random seed (give each process its own)")
	flag.StringVar(&o.out, "out", "-", "where the JSON report goes")
	flag.Parse()
	if *doMerge {
		if err := merge(flag.Args(), os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "shoppers:", err)
			os.Exit(1)
		}
		return
	}
	o.addrs = strings.Split(addrs, ",")
	report := run(o)
	data, err := json.Marshal(report)
	if err == nil {
		if o.out == "-" {
			_, err = os.Stdout.Write(append(data, '\n'))
		} else {
			err = os.WriteFile(o.out, data, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "shoppers:", err)
		os.Exit(1)
	}
}

// recorder holds the windows, shared by every user.
type recorder struct {
	mu      sync.Mutex
	start   time.Time
	first   time.Duration // 0: one window
	windows []*Window
}

func newRecorder(o options, start time.Time) *recorder {
	r := &recorder{start: start, first: o.reportFirst}
	if o.reportFirst > 0 && o.reportFirst < o.duration {
		r.windows = []*Window{NewWindow("first", o.reportFirst.Seconds()),
			NewWindow("rest", (o.duration - o.reportFirst).Seconds())}
	} else {
		r.first = 0
		r.windows = []*Window{NewWindow("all", o.duration.Seconds())}
	}
	return r
}

// window is the window of a request sent at t.
func (r *recorder) window(t time.Time) *Window {
	if r.first > 0 && t.Sub(r.start) >= r.first {
		return r.windows[1]
	}
	return r.windows[0]
}

// outcome of one request: an answer's status, or a timeout, or a socket error.
type outcome struct {
	class   string
	sent    time.Time
	latency time.Duration
	status  int    // 0 when unanswered
	timeout bool   // no answer within the timeout
	errKind string // connect, write or read
	err     error
	retried bool // sent twice: a reused connection closed under it
}

func (r *recorder) record(o outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.window(o.sent)
	w.Sent[o.class]++
	if o.retried {
		w.Retried[o.class]++
	}
	switch {
	case o.timeout:
		w.Timeouts[o.class]++
	case o.errKind != "":
		w.Errors[o.errKind]++
		if w.ErrorSamples[o.errKind] == "" {
			w.ErrorSamples[o.errKind] = o.err.Error()
		}
	default:
		w.histogram(o.class + "/" + statusClass(o.status)).Record(uint64(o.latency.Microseconds()))
	}
}

func run(o options) *Report {
	start := time.Now()
	end := start.Add(o.duration)
	rec := newRecorder(o, start)
	var wg sync.WaitGroup
	for i := 0; i < o.users; i++ {
		u := &user{opts: o, addr: o.addrs[i%len(o.addrs)], rng: rand.New(rand.NewSource(o.seed*1_000_003 + int64(i))), rec: rec}
		wg.Add(1)
		go func() {
			defer wg.Done()
			u.live(start, end)
		}()
	}
	wg.Wait()
	return &Report{Users: o.users, Think: o.think.Seconds(), Windows: rec.windows}
}

// user is one shopper: one connection at a time, one request at a time.
type user struct {
	opts options
	addr string
	rng  *rand.Rand
	rec  *recorder
	conn net.Conn
	br   *bufio.Reader
}

func (u *user) thinkTime() time.Duration {
	if u.opts.think <= 0 {
		return 0
	}
	return time.Duration(u.rng.ExpFloat64() * float64(u.opts.think))
}

// live clicks until end: requests begun before end are seen through.
func (u *user) live(start, end time.Time) {
	defer u.hangUp()
	next := start.Add(u.thinkTime())
	if u.opts.arrive > 0 {
		next = start.Add(time.Duration(u.rng.Int63n(int64(u.opts.arrive))))
	}
	for {
		if next.After(end) {
			return
		}
		time.Sleep(time.Until(next))
		u.rec.record(u.click())
		next = time.Now().Add(u.thinkTime())
	}
}

// closedWhileThinking says whether the server closed the idle connection (or
// sent something unasked) while the user thought, as a browser's connection
// pool checks before reusing one: a peek that does not wait. A server's idle
// timeout is then a reconnect, not an error; a close racing the request
// still is one.
func (u *user) closedWhileThinking() bool {
	if u.br.Buffered() > 0 {
		return true
	}
	tc, ok := u.conn.(*net.TCPConn)
	if !ok {
		return false
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	raw.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = err != syscall.EAGAIN
		return true
	})
	return closed
}

func (u *user) hangUp() {
	if u.conn != nil {
		u.conn.Close()
		u.conn, u.br = nil, nil
	}
}

// request writes one click of the mix: 3 product pages : 1 checkout of a
// small basket, as bench/mix.lua.
func (u *user) request() (class string, raw []byte) {
	host := u.addr
	if u.rng.Intn(4) == 0 {
		body := fmt.Sprintf(`{"items":[{"id":%d,"quantity":%d}]}`, 1+u.rng.Intn(500), 1+u.rng.Intn(3))
		return Checkout, []byte(fmt.Sprintf("POST /checkout HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			host, len(body), body))
	}
	return Browse, []byte(fmt.Sprintf("GET /products/%d HTTP/1.1\r\nHost: %s\r\n\r\n", 1+u.rng.Intn(500), host))
}

// click sends one request and reads its answer. The latency is the user's:
// from the click, connecting (after a closed or failed connection) included.
// As a browser does, a request on a reused connection that fails before any
// byte of its answer (the server's idle close crossed it on the wire) is sent
// once more on a new connection, and counted as retried.
func (u *user) click() outcome {
	class, raw := u.request()
	sent := time.Now()
	o := outcome{class: class, sent: sent}
	deadline := sent.Add(u.opts.timeout)
	for {
		reused := u.conn != nil && !u.closedWhileThinking()
		if !reused {
			u.hangUp()
		}
		status, answered, kind, err := u.exchange(raw, deadline)
		if err == nil {
			o.status, o.latency = status, time.Since(sent)
			return o
		}
		u.hangUp()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			o.timeout = true
			return o
		}
		if reused && !answered && !o.retried {
			o.retried = true
			continue
		}
		o.errKind, o.err = kind, err
		return o
	}
}

// exchange writes one request on the user's connection (connecting first
// when there is none) and reads its answer. answered says whether any byte
// of the answer arrived; kind names the step that failed.
func (u *user) exchange(raw []byte, deadline time.Time) (status int, answered bool, kind string, err error) {
	if u.conn == nil {
		d := net.Dialer{Deadline: deadline}
		c, err := d.Dial("tcp", u.addr)
		if err != nil {
			return 0, false, "connect", err
		}
		u.conn, u.br = c, bufio.NewReaderSize(c, 4096)
	}
	u.conn.SetDeadline(deadline)
	if _, err := u.conn.Write(raw); err != nil {
		return 0, false, "write", err
	}
	if _, err := u.br.Peek(1); err != nil {
		return 0, false, "read", err
	}
	resp, err := http.ReadResponse(u.br, nil)
	if err != nil {
		return 0, true, "read", err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, true, "read", err
	}
	if resp.Close {
		u.hangUp() // Connection: close; the next click connects again
	}
	return resp.StatusCode, true, "", nil
}
