// Command go-store is corral-shop's store on the Go standard library, written
// to run under corral: it serves on the socket corral owns (fd 3), speaks the
// systemd notify protocol (READY=1, WATCHDOG=1, STOPPING=1) and drains on
// SIGTERM. Alone, it listens on PORT (default 8000).
//
//	corral --listen=0.0.0.0:8080 --ready=notify -- ./go-store
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// draining is set on SIGTERM.
var draining atomic.Bool

const (
	paymentLatency = 50 * time.Millisecond // the simulated payment provider
	maxBodyBytes   = 64 << 10
)

func main() {
	ln, err := listener()
	if err != nil {
		log.Fatalf("go-store: %v", err)
	}
	srv := &http.Server{Handler: routes(), ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 75 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	notify("READY=1\nSTATUS=serving")
	stopWatchdog := watchdog()

	terms := make(chan os.Signal, 1)
	signal.Notify(terms, syscall.SIGTERM, syscall.SIGINT)
	select {
	case err := <-served:
		log.Fatalf("go-store: %v", err)
	case <-terms:
	}
	notify("STOPPING=1")
	stopWatchdog()
	// Stop accepting; every answer from now on carries Connection: close.
	draining.Store(true)
	ln.Close()
	// Leave idle keep-alive connections be for a second: one may have its
	// next request on the way, and closing it would reset that request. Busy
	// ones close after their next answer; any still idle after a second has
	// been idle since before SIGTERM.
	time.Sleep(time.Second)
	// Shutdown closes the idle connections and returns once the busy ones
	// have answered.
	if err := srv.Shutdown(context.Background()); err != nil && !errors.Is(err, net.ErrClosed) {
		log.Fatalf("go-store: shutdown: %v", err)
	}
}

// listener is the socket corral hands over as fd 3 (systemd's LISTEN_FDS
// protocol: LISTEN_PID says it was meant for this very process), or PORT.
func listener() (net.Listener, error) {
	if os.Getenv("LISTEN_FDS") != "" && os.Getenv("LISTEN_PID") == strconv.Itoa(os.Getpid()) {
		f := os.NewFile(3, os.Getenv("LISTEN_FDNAMES"))
		defer f.Close() // FileListener works on a duplicate
		return net.FileListener(f)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8000"
	}
	return net.Listen("tcp", ":"+port)
}

// notify sends one message on NOTIFY_SOCKET, if there is one. As with
// sd_notify, a failure is not the app's: it is only logged.
func notify(message string) {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return
	}
	// "@name" is an abstract socket. Go's net package replaces the '@' with
	// the NUL byte itself; a name that already starts with NUL would get a
	// trailing NUL counted in its length (Go 1.19) and so name another socket.
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err == nil {
		_, err = conn.Write([]byte(message))
		conn.Close()
	}
	if err != nil {
		log.Printf("go-store: notify %q: %v", message, err)
	}
}

// watchdog sends WATCHDOG=1 every WATCHDOG_USEC/2 when corral asks for it,
// until the returned function is called. It runs on the scheduler that runs
// the handlers: a process that can no longer run goroutines falls silent.
func watchdog() (stop func()) {
	usec, _ := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	pid := os.Getenv("WATCHDOG_PID")
	if usec <= 0 || (pid != "" && pid != strconv.Itoa(os.Getpid())) {
		return func() {}
	}
	ticker := time.NewTicker(time.Duration(usec) * time.Microsecond / 2)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ticker.C:
				notify("WATCHDOG=1")
			case <-done:
				return
			}
		}
	}()
	return func() { ticker.Stop(); close(done) }
}

func routes() http.Handler {
	// corral's config dir never changes under a running process: read it once.
	var banner any
	if dir := os.Getenv("CORRAL_CONFIG_DIR"); dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, "banner")); err == nil {
			banner = strings.TrimSpace(string(b))
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/" {
			reply(w, nil, errorf(404, "no such route"))
			return
		}
		reply(w, map[string]any{
			"store": "corral go-store", "banner": banner, "pid": os.Getpid(),
			"worker": os.Getenv("CORRAL_WORKER"), "workers": os.Getenv("CORRAL_WORKERS"),
			"config_generation": os.Getenv("CORRAL_CONFIG_GENERATION"),
		}, nil)
	})
	mux.HandleFunc("/products", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			reply(w, nil, errorf(404, "no such route"))
			return
		}
		page, err := intParam(r, "page", 1)
		if err != nil {
			reply(w, nil, err)
			return
		}
		perPage, err := intParam(r, "per_page", 20)
		if err != nil {
			reply(w, nil, err)
			return
		}
		body, err := productsPage(page, perPage)
		reply(w, body, err)
	})
	mux.HandleFunc("/products/", func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/products/")
		if r.Method != http.MethodGet || strings.Contains(id, "/") {
			reply(w, nil, errorf(404, "no such route"))
			return
		}
		n, err := strconv.Atoi(id)
		if err != nil || strings.TrimLeft(id, "0123456789") != "" {
			reply(w, nil, errorf(400, "product id must be a positive integer"))
			return
		}
		if p := findProduct(n); p != nil {
			reply(w, p, nil)
		} else {
			reply(w, nil, errorf(404, "unknown product %s", id))
		}
	})
	mux.HandleFunc("/checkout", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			reply(w, nil, errorf(404, "no such route"))
			return
		}
		var c cart
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes)).Decode(&c); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				reply(w, nil, errorf(413, "body too large"))
			} else {
				reply(w, nil, errorf(400, "body is not a valid cart: %v", err))
			}
			return
		}
		q, err := priceCart(c)
		if err != nil {
			reply(w, nil, err)
			return
		}
		// The payment provider answers later; the goroutine waits, others serve.
		select {
		case <-time.After(paymentLatency):
			q.Payment = "approved"
			reply(w, q, nil)
		case <-r.Context().Done(): // the client went away
		}
	})
	return mux
}

func intParam(r *http.Request, name string, fallback int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || strings.TrimLeft(v, "0123456789") != "" {
		return 0, errorf(400, "%s must be a positive integer", name)
	}
	return n, nil
}

// reply writes body as JSON, or err as {"error": ..., "status": N}.
func reply(w http.ResponseWriter, body any, err error) {
	status := http.StatusOK
	if err != nil {
		status = http.StatusInternalServerError
		var se *storeError
		if errors.As(err, &se) {
			status = se.status
		}
		body = map[string]any{"error": err.Error(), "status": status}
	}
	if draining.Load() {
		w.Header().Set("Connection", "close") // the client reconnects, to another copy
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Worker-Pid", strconv.Itoa(os.Getpid()))
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(body); err != nil {
		log.Printf("go-store: reply: %v", err)
	}
}
