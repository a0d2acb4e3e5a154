package echo

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// AuthCountHeader is the response header of /__auth/<code>: how many auth
// requests the server has answered, that one included.
const AuthCountHeader = "X-Echo-Auth-Count"

// Auth plays an auth service (auth-url) for the e2e suite: it answers
// /__auth/<code> and counts what it answered and on how many connections.
type Auth struct {
	requests atomic.Int64
	nextConn atomic.Int64
	mu       sync.Mutex
	conns    map[int64]bool
	last     AuthRequest
}

// AuthRequest is what the auth service saw of a request.
type AuthRequest struct {
	Method     string              `json:"method"`
	RequestURI string              `json:"requestURI"`
	Host       string              `json:"host"`
	Proto      string              `json:"proto"`
	Headers    map[string][]string `json:"headers"`
}

// AuthStats is the body of /__auth-stats: the auth requests answered, the
// connections they came on, and the last one.
type AuthStats struct {
	Requests    int64       `json:"requests"`
	Connections int         `json:"connections"`
	Last        AuthRequest `json:"last"`
}

// NewAuth returns an Auth that has answered nothing.
func NewAuth() *Auth { return &Auth{conns: map[int64]bool{}} }

type connKey struct{}

// ConnContext numbers the server's connections (http.Server.ConnContext),
// so that Auth tells how many its requests came on.
func (a *Auth) ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, a.nextConn.Add(1))
}

// Wrap serves the auth paths and hands every other request to h:
//
//	/__auth/<code>  answers <code> (200-599) with no body, as auth
//	                services do, and the headers PodHeader, HostHeader,
//	                RequestIDHeader and AuthCountHeader; with ?cookie=<name>
//	                also Set-Cookie <name>=<count>; Path=/
//	/__auth-stats   answers AuthStats as JSON
func (a *Auth) Wrap(h http.Handler, pod string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/__auth-stats" {
			a.mu.Lock()
			st := AuthStats{Requests: a.requests.Load(), Connections: len(a.conns), Last: a.last}
			a.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(st) //nolint:errcheck // the client may be gone
			return
		}
		s, ok := strings.CutPrefix(r.URL.Path, "/__auth/")
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		code, err := strconv.Atoi(s)
		if err != nil || code < 200 || code > 599 {
			http.Error(w, "want /__auth/<code> with a code from 200 to 599", http.StatusBadRequest)
			return
		}
		n := a.requests.Add(1)
		a.mu.Lock()
		if id, ok := r.Context().Value(connKey{}).(int64); ok {
			a.conns[id] = true
		}
		a.last = AuthRequest{Method: r.Method, RequestURI: r.RequestURI, Host: r.Host, Proto: r.Proto, Headers: r.Header.Clone()}
		a.mu.Unlock()
		w.Header().Set(PodHeader, pod)
		w.Header().Set(HostHeader, r.Host)
		w.Header().Set(AuthCountHeader, strconv.FormatInt(n, 10))
		if id := r.Header.Get("X-Request-ID"); id != "" {
			w.Header().Set(RequestIDHeader, id)
		}
		if c := r.URL.Query().Get("cookie"); c != "" {
			http.SetCookie(w, &http.Cookie{Name: c, Value: strconv.FormatInt(n, 10), Path: "/"})
		}
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(code)
	})
}
