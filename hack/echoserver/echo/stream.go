package echo

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/websocket"
)

// MaxBytes caps the body a /__bytes/<n> request can ask for.
const MaxBytes = 16 << 20

// MaxChunks caps the chunks a /__slow/<n> request can ask for.
const MaxChunks = 600

// slowInterval is the pause between two chunks of a /__slow answer.
const slowInterval = 100 * time.Millisecond

// special serves the paths that are not echoed:
//
//	/__slow/<n>  answers 200 with n lines, one every 100ms (a slow download)
//	/__ws        a WebSocket that sends back every message it receives
//	/__bytes/<n> answers n bytes of "x" (at most MaxBytes)
//	/__redirect  answers 302 with Location: the query's to
//	/__cookie    answers 200 with Set-Cookie: the query's v
//	/__upload    reads the request body, then answers "read <n> bytes"
//	/__uploads   answers how many /__upload requests are reading their
//	             body now: whether a proxy streams a body as it arrives
//
// It reports whether it handled r; uploads counts the /__upload requests
// in flight.
func special(w http.ResponseWriter, r *http.Request, pod string, uploads *atomic.Int64) bool {
	if s, ok := strings.CutPrefix(r.URL.Path, "/__bytes/"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > MaxBytes {
			http.Error(w, "want /__bytes/<n> with at most "+strconv.Itoa(MaxBytes)+" bytes", http.StatusBadRequest)
			return true
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(n))
		chunk := strings.Repeat("x", 32<<10)
		for n > 0 {
			k := min(n, len(chunk))
			if _, err := io.WriteString(w, chunk[:k]); err != nil {
				return true
			}
			n -= k
		}
		return true
	}
	switch r.URL.Path {
	case "/__redirect":
		w.Header().Set("Location", r.URL.Query().Get("to"))
		w.WriteHeader(http.StatusFound)
		return true
	case "/__cookie":
		w.Header().Set("Set-Cookie", r.URL.Query().Get("v"))
		_, _ = io.WriteString(w, "cookie set by "+pod+"\n")
		return true
	case "/__upload":
		uploads.Add(1)
		n, _ := io.Copy(io.Discard, r.Body)
		uploads.Add(-1)
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set(PodHeader, pod)
		_, _ = io.WriteString(w, "read "+strconv.FormatInt(n, 10)+" bytes\n")
		return true
	case "/__uploads":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, strconv.FormatInt(uploads.Load(), 10)+"\n")
		return true
	}
	if s, ok := strings.CutPrefix(r.URL.Path, "/__slow/"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxChunks {
			http.Error(w, "want /__slow/<chunks> with 1 to "+strconv.Itoa(MaxChunks)+" chunks", http.StatusBadRequest)
			return true
		}
		slow(w, r, pod, n)
		return true
	}
	if r.URL.Path == "/__ws" {
		websocket.Handler(func(c *websocket.Conn) { io.Copy(c, c) }).ServeHTTP(w, r) //nolint:errcheck // ends when the client goes
		return true
	}
	return false
}

// slow writes n numbered lines, flushing each, slowInterval apart.
func slow(w http.ResponseWriter, r *http.Request, pod string, n int) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set(PodHeader, pod)
	w.Header().Set("Content-Length", strconv.Itoa(slowLength(n)))
	fl, _ := w.(http.Flusher)
	for i := range n {
		if i > 0 {
			select {
			case <-time.After(slowInterval):
			case <-r.Context().Done():
				return
			}
		}
		if _, err := io.WriteString(w, slowLine(i)); err != nil {
			return
		}
		if fl != nil {
			fl.Flush()
		}
	}
}

// slowLine is line i of a /__slow answer.
func slowLine(i int) string { return "chunk " + strconv.Itoa(i) + "\n" }

// slowLength is the byte length of a /__slow/<n> answer, so a client can
// tell a complete body from a cut one.
func slowLength(n int) int {
	total := 0
	for i := range n {
		total += len(slowLine(i))
	}
	return total
}

// SlowBody is the exact body of a /__slow/<n> answer.
func SlowBody(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(slowLine(i))
	}
	return b.String()
}
