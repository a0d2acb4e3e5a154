package echo

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

func TestHandler(t *testing.T) {
	h := Handler("svc", "pod-0")
	for _, tc := range []struct {
		target     string
		wantStatus int
		wantPath   string
		wantQuery  string
	}{
		{"/", 200, "/", ""},
		{"/a/b?x=1&y=%20", 200, "/a/b", "x=1&y=%20"},
		{"/__status/503", 503, "/__status/503", ""},
		{"/__status/418?q", 418, "/__status/418", "q"},
		{"/__sleep/1", 200, "/__sleep/1", ""},
		{"/__status/99", 400, "", ""},
		{"/__status/x", 400, "", ""},
		{"/__sleep/-1", 400, "", ""},
		{"/__header/10", 200, "/__header/10", ""},
		{"/__header/65537", 400, "", ""},
	} {
		req := httptest.NewRequest(http.MethodPost, tc.target, nil)
		req.Host = "app.example.com"
		req.Header.Add("x-test", "a")
		req.Header.Add("X-Test", "b")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.wantStatus {
			t.Errorf("%s: status %d, want %d", tc.target, rec.Code, tc.wantStatus)
			continue
		}
		if tc.wantStatus == 400 {
			continue
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", tc.target, ct)
		}
		if p := rec.Header().Get(PodHeader); p != "pod-0" {
			t.Errorf("%s: %s %q", tc.target, PodHeader, p)
		}
		if pad, want := rec.Header().Get(PadHeader), strings.HasPrefix(tc.target, "/__header/"); want != (pad == "xxxxxxxxxx") {
			t.Errorf("%s: %s %q", tc.target, PadHeader, pad)
		}
		var got Response
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("%s: %v", tc.target, err)
		}
		if got.Service != "svc" || got.Pod != "pod-0" || got.Method != "POST" || got.Host != "app.example.com" ||
			got.Path != tc.wantPath || got.RawQuery != tc.wantQuery || got.RequestURI != tc.target || got.Proto != "HTTP/1.1" {
			t.Errorf("%s: got %+v", tc.target, got)
		}
		if v := got.Headers["X-Test"]; len(v) != 2 || v[0] != "a" || v[1] != "b" {
			t.Errorf("%s: X-Test %q, want [a b]", tc.target, v)
		}
	}
}

// step is one request of a sequence to one handler, and the status it
// must answer.
type step struct {
	method, target string
	want           int
}

// run sends steps to h in order.
func run(t *testing.T, h http.Handler, steps []step) {
	t.Helper()
	for _, s := range steps {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(s.method, s.target, nil))
		if rec.Code != s.want {
			t.Fatalf("%s %s: %d, want %d", s.method, s.target, rec.Code, s.want)
		}
	}
}

// /__health answers 200 until a POST to /__health/fail, then 503 until a
// POST to /__health/ok; a GET changes nothing.
func TestHealth(t *testing.T) {
	run(t, Handler("svc", "pod-0"), []step{
		{"GET", "/__health", 200},
		{"GET", "/__health/fail", 405},
		{"GET", "/__health", 200},
		{"POST", "/__health/fail", 503},
		{"GET", "/__health", 503},
		{"GET", "/other", 200},
		{"POST", "/__health/ok", 200},
		{"GET", "/__health", 200},
	})
}

// A pod told to fail answers every echoed request with that code, and
// still records it, until told 0.
func TestFailMode(t *testing.T) {
	h := Handler("svc", "pod-0")
	run(t, h, []step{
		{"GET", "/x", 200},
		{"GET", "/__fail/502", 405},
		{"POST", "/__fail/99", 400},
		{"POST", "/__fail/502", 200},
		{"GET", "/x", 502},
		{"GET", "/__status/404", 404},
		{"POST", "/__fail/0", 200},
		{"GET", "/x", 200},
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/__seen", nil))
	var seen []Response
	if err := json.Unmarshal(rec.Body.Bytes(), &seen); err != nil || len(seen) != 4 || seen[1].Path != "/x" {
		t.Errorf("/__seen: %v %s, want the 4 requests echoed", err, rec.Body.String())
	}
}

func TestOK(t *testing.T) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/__ok", nil)
	req.Header.Set("X-Many", strings.Repeat("x", 100))
	Handler("svc", "pod-0").ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.String() != "ok\n" || rec.Header().Get(PodHeader) != "pod-0" {
		t.Errorf("/__ok: %d %q pod %q, want 200 \"ok\\n\" pod-0", rec.Code, rec.Body.String(), rec.Header().Get(PodHeader))
	}
}

func TestRespond(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler("svc", "pod-0").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/__respond?Server=backend%2F1&x-powered-by=php", nil))
	if rec.Code != 200 || rec.Header().Get("Server") != "backend/1" || rec.Header().Get("X-Powered-By") != "php" || rec.Header().Get(PodHeader) != "pod-0" {
		t.Errorf("/__respond: %d %v", rec.Code, rec.Header())
	}
}

func TestSleepStopsWhenClientLeaves(t *testing.T) {
	srv := httptest.NewServer(Handler("svc", "pod-0"))
	defer srv.Close()
	c := &http.Client{Timeout: 100 * time.Millisecond}
	start := time.Now()
	if _, err := c.Get(srv.URL + "/__sleep/60000"); err == nil {
		t.Fatal("want a client timeout")
	}
	// Close waits for the handler, which must return once the client is gone.
	srv.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("handler kept sleeping for %v after the client left", d)
	}
}

func TestSlowAndWebSocket(t *testing.T) {
	srv := httptest.NewServer(Handler("svc", "pod-0"))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/__slow/3")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != SlowBody(3) || resp.ContentLength != int64(len(SlowBody(3))) {
		t.Errorf("/__slow/3 = %q (length %d), %v; want %q", body, resp.ContentLength, err, SlowBody(3))
	}
	if resp, err := http.Get(srv.URL + "/__slow/0"); err != nil || resp.StatusCode != 400 {
		t.Errorf("/__slow/0: %v %v, want 400", resp, err)
	}

	ws, err := websocket.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/__ws", "", "http://test/")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, msg := range []string{"one", "two"} {
		if err := websocket.Message.Send(ws, msg); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := websocket.Message.Receive(ws, &got); err != nil || got != msg {
			t.Errorf("echo of %q = %q, %v", msg, got, err)
		}
	}
}

// /__upload counts itself in /__uploads while it reads the body.
func TestUploads(t *testing.T) {
	srv := httptest.NewServer(Handler("svc", "pod-0"))
	defer srv.Close()
	uploads := func() string {
		resp, err := http.Get(srv.URL + "/__uploads")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(b))
	}
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "POST /__upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for uploads() != "1" {
		if time.Now().After(deadline) {
			t.Fatal("/__uploads not 1 while an upload is half sent")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := io.WriteString(c, "6\r\n world\r\n0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != "read 11 bytes\n" || resp.Header.Get(PodHeader) != "pod-0" {
		t.Errorf("body %q, %v, pod %q; want read 11 bytes from pod-0", body, err, resp.Header.Get(PodHeader))
	}
	if n := uploads(); n != "0" {
		t.Errorf("/__uploads = %s after the upload ended, want 0", n)
	}
}

func TestRedirectAndCookie(t *testing.T) {
	srv := httptest.NewServer(Handler("svc", "pod-0"))
	defer srv.Close()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(srv.URL + "/__redirect?to=" + "http%3A%2F%2Fapp.internal%2Fx")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "http://app.internal/x" {
		t.Errorf("/__redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = c.Get(srv.URL + "/__cookie?v=" + "s%3D1%3B%20Path%3D%2Fapp")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Set-Cookie"); got != "s=1; Path=/app" {
		t.Errorf("/__cookie: Set-Cookie %q", got)
	}
}

func TestBytes(t *testing.T) {
	srv := httptest.NewServer(Handler("svc", "pod-0"))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/__bytes/100000")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(b) != 100000 || strings.Trim(string(b), "x") != "" {
		t.Errorf("/__bytes/100000: %d bytes, %v", len(b), err)
	}
	if resp, err := http.Get(srv.URL + "/__bytes/99999999"); err != nil || resp.StatusCode != 400 {
		t.Errorf("/__bytes over the cap: %v %v, want 400", resp, err)
	}
}

// The auth paths: an empty answer of the code asked for, with the count
// and, when asked, a cookie; the stats count the connections the auth
// requests came on.
func TestAuth(t *testing.T) {
	a := NewAuth()
	srv := httptest.NewUnstartedServer(a.Wrap(Handler("svc", "pod-0"), "pod-0"))
	srv.Config.ConnContext = a.ConnContext
	srv.Start()
	defer srv.Close()
	c := srv.Client()
	for i, path := range []string{"/__auth/200", "/__auth/401?cookie=session"} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("X-Request-ID", "id-1")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := []int{200, 401}[i]
		if resp.StatusCode != want || len(body) != 0 || resp.Header.Get(AuthCountHeader) != strconv.Itoa(i+1) ||
			resp.Header.Get(RequestIDHeader) != "id-1" {
			t.Errorf("%s: %d %q %v", path, resp.StatusCode, body, resp.Header)
		}
		if i == 1 && resp.Header.Get("Set-Cookie") != "session=2; Path=/" {
			t.Errorf("%s: Set-Cookie %q", path, resp.Header.Get("Set-Cookie"))
		}
	}
	resp, err := c.Get(srv.URL + "/__auth-stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st AuthStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.Requests != 2 || st.Connections != 1 || st.Last.RequestURI != "/__auth/401?cookie=session" {
		t.Errorf("stats %+v, want 2 requests on one kept connection", st)
	}
}

// /__seen answers what the pod echoed, oldest first, at most MaxSeen:
// what a mirror received.
func TestSeen(t *testing.T) {
	srv := httptest.NewServer(Handler("svc", "pod-1"))
	defer srv.Close()
	for i := range MaxSeen + 2 {
		resp, err := http.Post(fmt.Sprintf("%s/copy/%d?a=%d", srv.URL, i, i), "text/plain", strings.NewReader("body"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(srv.URL + "/__seen")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var seen []Response
	if err := json.NewDecoder(resp.Body).Decode(&seen); err != nil {
		t.Fatal(err)
	}
	if len(seen) != MaxSeen || seen[0].Path != "/copy/2" || seen[MaxSeen-1].RawQuery != fmt.Sprintf("a=%d", MaxSeen+1) ||
		seen[0].BodyBytes != 4 || seen[0].Method != "POST" || seen[0].FastCGI != nil {
		t.Errorf("seen %d requests, first %+v", len(seen), seen[0])
	}
}
