package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/portico-ingress/portico/e2e/framework"
)

// runs waits until nginx runs an nginx.conf that holds text, and closes
// the client's idle connections: old workers may serve them a while.
func runs(t *testing.T, text string) {
	t.Helper()
	eventually(t, "nginx runs "+text, func() error {
		conf := runningConf(t)
		s, err := env.portico.status()
		switch {
		case err != nil:
			return err
		case !strings.Contains(conf, text):
			return fmt.Errorf("not in nginx.conf yet")
		case s.Nginx.Checksum == "" || !strings.Contains(conf, "# checksum "+s.Nginx.Checksum):
			return fmt.Errorf("nginx does not run it yet")
		}
		return nil
	})
	noProxyClient.CloseIdleConnections()
}

// jsonLogLine waits for the access log line, a JSON object, whose field
// "uri" is uri, and returns it parsed.
func jsonLogLine(t *testing.T, uri string) map[string]any {
	t.Helper()
	var found map[string]any
	eventually(t, "the JSON access log line of "+uri, func() error {
		b, err := os.ReadFile(env.portico.logPath)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.Contains(l, uri) || !strings.HasPrefix(l, "{") {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				return fmt.Errorf("not JSON: %v: %s", err, l)
			}
			if m["uri"] == uri {
				found = m
				return nil
			}
		}
		return fmt.Errorf("not there yet")
	})
	return found
}

// log-format-upstream with ingress-nginx's JSON style and its variables
// gives lines that parse as JSON with the request's fields (escaped
// quotes included, X-Request-ID as the backend got it);
// skip-access-log-urls leaves its URIs out; all without a restart.
func TestConfigMapAccessLogJSON(t *testing.T) {
	ns := namespace(t, "jsonlog")
	a := newApp(t, ns, "a", 1, "")
	const host = "jsonlog.example.com"
	createIngress(t, newIngress(ns, "log", nil, hostRule(host, prefixPath("/", "a"))))
	servedBy(t, host, "/", a)
	restarts := mustStatus(t).Nginx.Restarts
	format := `{"uri": "$request_uri", "status": $status, "id": "$req_id", "upstream": "$proxy_upstream_name", ` +
		`"alt": "$proxy_alternative_upstream_name", "namespace": "$namespace", "ingress": "$ingress_name", ` +
		`"service": "$service_name", "port": "$service_port", "path": "$location_path", "backend": "$portico_backend", ` +
		`"agent": "$http_user_agent", "bytes": $body_bytes_sent}`
	putConfigMap(t, map[string]string{"log-format-upstream": format, "log-format-escape-json": "true",
		"skip-access-log-urls": "/jsonlog-skip-exact, ~*^/JSONLOG-SKIP-re"})
	runs(t, "log_format portico escape=json '{")
	mark := fmt.Sprintf("/jsonlog-%d", time.Now().UnixNano())
	agent := `probe "quoted" \ agent`
	r := expect(t, "answer to "+mark, "GET", host, mark, map[string]string{"User-Agent": agent}, "", fromApp(a, 200))
	_ = get(t, host, "/jsonlog-skip-exact")
	_ = get(t, host, "/jsonlog-skip-regex?x=1")
	after := mark + "-after"
	servedBy(t, host, after, a)
	line := jsonLogLine(t, mark)
	want := map[string]any{"status": 200.0, "upstream": ns + "-a-80", "alt": "", "namespace": ns, "ingress": "log",
		"service": "a", "port": "80", "path": "/", "backend": ns + "/a:80", "agent": agent}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("field %s = %#v, want %#v (line %v)", k, line[k], v, line)
		}
	}
	ids := r.echo.Headers["X-Request-Id"]
	if len(ids) != 1 || line["id"] != ids[0] || len(ids[0]) != 32 {
		t.Errorf("logged id %v, the backend got X-Request-ID %v", line["id"], ids)
	}
	jsonLogLine(t, after)
	b, _ := os.ReadFile(env.portico.logPath)
	for _, skipped := range []string{"/jsonlog-skip-exact", "/jsonlog-skip-regex"} {
		if strings.Contains(string(b), `"uri": "`+skipped) {
			t.Errorf("%s is in the access log; skip-access-log-urls leaves it out", skipped)
		}
	}
	if got := mustStatus(t).Nginx.Restarts; got != restarts {
		t.Errorf("nginx restarted %d times", got-restarts)
	}
}

// error-log-level and error-log-path: nginx's [info] lines (a client
// closing its keep-alive connection) go to the file at info and not at
// the default notice; [emerg] stays on standard error.
func TestConfigMapErrorLog(t *testing.T) {
	ns := namespace(t, "errlog")
	a := newApp(t, ns, "a", 1, "")
	const host = "errlog.example.com"
	createIngress(t, newIngress(ns, "log", nil, hostRule(host, prefixPath("/", "a"))))
	servedBy(t, host, "/", a)
	dir := fmt.Sprintf("/var/log/portico-e2e-%d", os.Getpid())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "error.log")
	infoLines := func() int {
		b, _ := os.ReadFile(path)
		return strings.Count(string(b), "[info]")
	}
	closeKeepAlive := func() {
		servedBy(t, host, "/", a)
		noProxyClient.CloseIdleConnections()
	}
	putConfigMap(t, map[string]string{"error-log-path": path, "error-log-level": "info"})
	eventually(t, "[info] lines in "+path, func() error {
		closeKeepAlive()
		if infoLines() == 0 {
			return fmt.Errorf("none yet")
		}
		return nil
	})
	if !strings.Contains(runningConf(t), "\nerror_log stderr emerg;\nerror_log "+path+" info;\n") {
		t.Error("nginx.conf lacks error_log stderr emerg and the file at info")
	}
	putConfigMap(t, map[string]string{"error-log-path": path, "error-log-level": "notice"})
	runs(t, "\nerror_log "+path+" notice;\n")
	time.Sleep(time.Second) // old workers finish
	before := infoLines()
	for range 5 {
		closeKeepAlive()
	}
	time.Sleep(500 * time.Millisecond)
	if n := infoLines(); n != before {
		t.Errorf("%d new [info] lines at notice", n-before)
	}
}

// listenUDPIn returns a UDP socket on port of host's network namespace.
func listenUDPIn(t *testing.T, h *framework.Host, port int) *net.UDPConn {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	target, err := os.Open("/run/netns/" + h.Netns())
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	setns := func(f *os.File) error { return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET) }
	if err := setns(target); err != nil {
		t.Fatal(err)
	}
	conn, lerr := net.ListenUDP("udp", &net.UDPAddr{IP: h.Addr().AsSlice(), Port: port})
	if err := setns(self); err != nil {
		panic(err) // this thread must not serve anything else: UnlockOSThread would hand it back
	}
	if lerr != nil {
		t.Fatal(lerr)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// enable-syslog sends the access and error logs to a syslog server (a
// UDP listener in a network namespace), and nothing of them to standard
// output.
func TestConfigMapSyslog(t *testing.T) {
	ns := namespace(t, "syslog")
	a := newApp(t, ns, "a", 1, "")
	const host = "syslog.example.com"
	createIngress(t, newIngress(ns, "log", nil, hostRule(host, prefixPath("/", "a"))))
	servedBy(t, host, "/", a)
	h, err := env.net.AddHost("syslog-server")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	conn := listenUDPIn(t, h, 5140)
	lines := make(chan string, 1024)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			lines <- string(buf[:n])
		}
	}()
	putConfigMap(t, map[string]string{"enable-syslog": "true", "syslog-host": h.Addr().String(), "syslog-port": "5140",
		"error-log-level": "info"})
	runs(t, "access_log syslog:server="+h.Addr().String()+":5140 portico;")
	mark := fmt.Sprintf("/syslog-%d", time.Now().UnixNano())
	var access, info string
	deadline := time.After(20 * time.Second)
	for access == "" || info == "" {
		servedBy(t, host, mark, a)
		noProxyClient.CloseIdleConnections()
		select {
		case l := <-lines:
			switch {
			case strings.Contains(l, `"GET `+mark+` HTTP/1.1" 200`):
				access = l
			case strings.Contains(l, "[info]"):
				info = l
			}
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatalf("syslog: access line %q, [info] line %q after 20s", access, info)
		}
	}
	// RFC 3164: <PRI>timestamp host tag: message; nginx's tag is "nginx".
	if !strings.HasPrefix(access, "<") || !strings.Contains(access, " nginx: ") {
		t.Errorf("access line is not a syslog message: %q", access)
	}
	time.Sleep(1500 * time.Millisecond) // a buffered stdout log would flush by now
	if b, _ := os.ReadFile(env.portico.logPath); strings.Contains(string(b), mark) {
		t.Error("the access log went to standard output too")
	}
}

// A value that passes its parser but that nginx refuses (an access log in
// a directory that does not exist) is held at its last good value with a
// Warning Event; the other keys changed with it, and later Ingresses, are
// applied.
func TestConfigMapKeyNginxRefuses(t *testing.T) {
	ns := namespace(t, "heldkey")
	a := newApp(t, ns, "a", 1, "")
	createIngress(t, newIngress(ns, "before", nil, hostRule("before.heldkey.example.com", prefixPath("/", "a"))))
	servedBy(t, "before.heldkey.example.com", "/", a)
	missing := fmt.Sprintf("/var/log/portico-e2e-missing-%d/access.log", os.Getpid())
	putConfigMap(t, map[string]string{"access-log-path": missing, "error-log-level": "warn"})
	configMapWarning(t, "ConfigNotApplied: data[access-log-path]: nginx refused the configuration with this value; it is left out")
	runs(t, "\nerror_log stderr warn;\n")
	if strings.Contains(runningConf(t), missing) {
		t.Errorf("nginx runs the refused access log %s", missing)
	}
	createIngress(t, newIngress(ns, "after", nil, hostRule("after.heldkey.example.com", prefixPath("/", "a"))))
	servedBy(t, "after.heldkey.example.com", "/", a)
	putConfigMap(t, map[string]string{"access-log-path": "/dev/stdout", "error-log-level": "warn"})
	runs(t, "\n    access_log /dev/stdout portico buffer=64k flush=1s;\n")
}
