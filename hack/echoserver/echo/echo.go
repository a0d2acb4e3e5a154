// Package echo is the HTTP handler of the echo backend used by make dev and
// the e2e suite, and the JSON document it answers with.
package echo

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/fcgi"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// PodHeader is the response header naming the pod that answered.
const PodHeader = "X-Echo-Pod"

// RequestIDHeader returns the X-Request-ID the request came with, so that
// a test can compare what an auth service saw with what the backend saw.
const RequestIDHeader = "X-Echo-Request-Id"

// HostHeader is the response header that tells the Host the pod was asked
// for (an auth service's answer passes it on through
// auth-response-headers).
const HostHeader = "X-Echo-Host"

// MaxSleep caps the delay a /__sleep/<ms> request can ask for.
const MaxSleep = 60 * time.Second

// PadHeader is the response header /__header/<bytes> fills, and MaxPad
// the most bytes it may ask for.
const (
	PadHeader = "X-Echo-Pad"
	MaxPad    = 64 << 10
)

// Response is the JSON body of every answer: the request as the backend saw it.
type Response struct {
	Service    string              `json:"service"`
	Pod        string              `json:"pod"`
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	RawQuery   string              `json:"rawQuery"`
	RequestURI string              `json:"requestURI"`
	Host       string              `json:"host"`
	Proto      string              `json:"proto"`
	Headers    map[string][]string `json:"headers"`
	RemoteAddr string              `json:"remoteAddr"`
	// ServerName is the TLS server name (SNI) the client sent; "" over
	// plain HTTP.
	ServerName string `json:"serverName,omitempty"`
	// BodyBytes is the length of the request body the backend read.
	BodyBytes int64 `json:"bodyBytes"`
	// FastCGI are the parameters of a FastCGI request that are not in the
	// request itself (SCRIPT_FILENAME, DOCUMENT_ROOT, ...); nil over HTTP.
	FastCGI map[string]string `json:"fastCGI,omitempty"`
}

// Handler answers every request with 200 and a Response naming service and
// pod, except for special paths:
//
//	/__status/<code>  answers with status <code> (200-599)
//	/__sleep/<ms>     waits <ms> milliseconds (at most MaxSleep) first
//	/__header/<bytes> adds a response header PadHeader of <bytes> "x" (at
//	                  most MaxPad): a proxy's header buffer must hold it
//	/__respond        adds each query parameter as a response header
//	                  (/__respond?Server=x&X-Powered-By=y): what a
//	                  proxy passes, hides or replaces
//	/__ok             answers 200 "ok" and the pod header, nothing else: a
//	                  backend whose work does not grow with the request's
//	                  headers (the data-plane benchmark)
//	/__health         answers 200 "ok", or 503 "failing" once a POST to
//	                  /__health/fail asked for it (until a POST to
//	                  /__health/ok): a readiness probe the test can fail
//	/__seen           answers the last MaxSeen requests it echoed, as a JSON
//	                  array of Response (what a mirror received)
//	/__fail/<code>    a POST makes every request the pod echoes from then on
//	                  answer <code> (200-599; 0 answers 200 again): one pod
//	                  of a Service failing while the others answer
//
// and the streaming paths of special (/__slow/<n>, /__ws, /__upload,
// /__uploads).
// A malformed special path answers 400.
//
// Served over FastCGI (net/http/fcgi), it reports the request's FastCGI
// parameters too.
func Handler(service, pod string) http.Handler {
	var uploads atomic.Int64
	var failing atomic.Bool
	var failCode atomic.Int64
	var seen seenLog
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if special(w, r, pod, &uploads) || readiness(w, r, pod, &failing) || seen.serve(w, r) || failMode(w, r, &failCode) {
			return
		}
		if r.URL.Path == "/__ok" {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set(PodHeader, pod)
			w.Write([]byte("ok\n")) //nolint:errcheck // the client may be gone
			return
		}
		status := http.StatusOK
		if c := failCode.Load(); c != 0 {
			status = int(c)
		}
		if s, ok := strings.CutPrefix(r.URL.Path, "/__status/"); ok {
			code, err := strconv.Atoi(s)
			if err != nil || code < 200 || code > 599 {
				http.Error(w, "want /__status/<code> with a code from 200 to 599", http.StatusBadRequest)
				return
			}
			status = code
		}
		if s, ok := strings.CutPrefix(r.URL.Path, "/__sleep/"); ok {
			ms, err := strconv.Atoi(s)
			if err != nil || ms < 0 {
				http.Error(w, "want /__sleep/<milliseconds>", http.StatusBadRequest)
				return
			}
			d := MaxSleep
			if ms < int(MaxSleep/time.Millisecond) {
				d = time.Duration(ms) * time.Millisecond
			}
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
		}
		if s, ok := strings.CutPrefix(r.URL.Path, "/__header/"); ok {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n > MaxPad {
				http.Error(w, "want /__header/<bytes> with at most "+strconv.Itoa(MaxPad)+" bytes", http.StatusBadRequest)
				return
			}
			w.Header().Set(PadHeader, strings.Repeat("x", n))
		}
		if r.URL.Path == "/__respond" {
			for k, vs := range r.URL.Query() {
				w.Header()[http.CanonicalHeaderKey(k)] = vs
			}
		}
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		echoed := Response{
			Service:    service,
			Pod:        pod,
			Method:     r.Method,
			Path:       r.URL.Path,
			RawQuery:   r.URL.RawQuery,
			RequestURI: r.RequestURI,
			Host:       r.Host,
			Proto:      r.Proto,
			Headers:    r.Header,
			RemoteAddr: r.RemoteAddr,
			ServerName: serverName(r),
			BodyBytes:  n,
			FastCGI:    fcgi.ProcessEnv(r),
		}
		seen.add(echoed)
		body, err := json.Marshal(echoed)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(PodHeader, pod)
		w.Header().Set(HostHeader, r.Host)
		if id := r.Header.Get("X-Request-ID"); id != "" {
			w.Header().Set(RequestIDHeader, id)
		}
		w.WriteHeader(status)
		w.Write(body) //nolint:errcheck // the client may be gone; nothing to do about it
	})
}

// readiness serves /__health and sets failing from /__health/fail and
// /__health/ok; it reports whether it handled r.
func readiness(w http.ResponseWriter, r *http.Request, pod string, failing *atomic.Bool) bool {
	switch r.URL.Path {
	case "/__health/fail", "/__health/ok":
		if r.Method != http.MethodPost {
			http.Error(w, "POST to change the health", http.StatusMethodNotAllowed)
			return true
		}
		failing.Store(r.URL.Path == "/__health/fail")
	case "/__health":
	default:
		return false
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set(PodHeader, pod)
	if failing.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("failing\n")) //nolint:errcheck // the client may be gone
		return true
	}
	w.Write([]byte("ok\n")) //nolint:errcheck // the client may be gone
	return true
}

func serverName(r *http.Request) string {
	if r.TLS == nil {
		return ""
	}
	return r.TLS.ServerName
}

// failMode serves POST /__fail/<code>, which sets the code every echoed
// request answers (0: 200 again); it reports whether it handled r.
func failMode(w http.ResponseWriter, r *http.Request, code *atomic.Int64) bool {
	s, ok := strings.CutPrefix(r.URL.Path, "/__fail/")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(s)
	switch {
	case r.Method != http.MethodPost:
		http.Error(w, "POST to change what the pod answers", http.StatusMethodNotAllowed)
	case err != nil || n != 0 && (n < 200 || n > 599):
		http.Error(w, "want /__fail/<code> with a code from 200 to 599, or 0", http.StatusBadRequest)
	default:
		code.Store(int64(n))
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok\n")) //nolint:errcheck // the client may be gone
	}
	return true
}
