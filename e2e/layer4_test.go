package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/portico-ingress/portico/e2e/framework"
	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

// streamApp is a Service of TCP port tcpPort (5432 unless set; to the
// pods' 9000) and UDP port 53 (to 9053) whose pods are stream echoes
// (framework.StartStreamEcho), on client's API server.
type streamApp struct {
	ns, name string
	proxy    bool // the pods read the PROXY protocol
	pods     []*streamPod
	tcpPort  int32
	client   kubernetes.Interface
}

type streamPod struct {
	name string
	host *framework.Host
	echo *framework.Echo
	// ready: listed ready in the EndpointSlice; listed: in it at all.
	listed bool
}

func newStreamApp(t testing.TB, ns, name string, n int, proxy bool) *streamApp {
	t.Helper()
	return newStreamAppOn(t, env.client, ns, name, 5432, n, proxy)
}

func newStreamAppOn(t testing.TB, client kubernetes.Interface, ns, name string, tcpPort int32, n int, proxy bool) *streamApp {
	t.Helper()
	a := &streamApp{ns: ns, name: name, proxy: proxy, tcpPort: tcpPort, client: client}
	for i := range n {
		a.addPod(t, fmt.Sprintf("%s-%d", name, i))
	}
	a.createService(t)
	return a
}

// createService creates the Service and its EndpointSlice.
func (a *streamApp) createService(t testing.TB) {
	t.Helper()
	ns, name := a.ns, a.name
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
		{Name: "tcp", Port: a.tcpPort, TargetPort: intstr.FromInt32(9000), Protocol: corev1.ProtocolTCP},
		{Name: "dns", Port: 53, TargetPort: intstr.FromInt32(9053), Protocol: corev1.ProtocolUDP},
	}}}
	if _, err := a.client.CoreV1().Services(ns).Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	a.syncSlice(t)
}

func (a *streamApp) addPod(t testing.TB, name string) *streamPod {
	t.Helper()
	h, err := env.net.AddHost(name)
	if err != nil {
		t.Fatal(err)
	}
	udp := 9053
	if a.proxy {
		udp = 0
	}
	e, err := framework.StartStreamEcho(context.Background(), h, name, 9000, udp, a.proxy)
	if err != nil {
		h.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Stop(); h.Close() })
	p := &streamPod{name: name, host: h, echo: e, listed: true}
	a.pods = append(a.pods, p)
	return p
}

// syncSlice writes the Service's one EndpointSlice: its listed pods, with
// a TCP and a UDP port.
func (a *streamApp) syncSlice(t testing.TB) {
	t.Helper()
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	tcpName, udpName := "tcp", "dns"
	tcpPort, udpPort := int32(9000), int32(9053)
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: a.name + "-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: a.name, discoveryv1.LabelManagedBy: "portico-e2e"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{Name: &tcpName, Port: &tcpPort, Protocol: &tcp},
			{Name: &udpName, Port: &udpPort, Protocol: &udp}},
		Endpoints: []discoveryv1.Endpoint{},
	}
	for _, p := range a.pods {
		if !p.listed {
			continue
		}
		ready := true
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{p.host.Addr().String()},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
	}
	ctx := context.Background()
	slices := a.client.DiscoveryV1().EndpointSlices(a.ns)
	cur, err := slices.Get(ctx, es.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = slices.Create(ctx, es, metav1.CreateOptions{})
	case err == nil:
		es.ResourceVersion = cur.ResourceVersion
		_, err = slices.Update(ctx, es, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// putServicesConfigMap creates or replaces ns/name with data.
func putServicesConfigMap(t testing.TB, ns, name string, data map[string]string) {
	t.Helper()
	cms := env.client.CoreV1().ConfigMaps(ns)
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	} else if err != nil {
		t.Fatal(err)
	}
}

// dialStream connects to 127.0.0.1:port, writes header first (a PROXY
// header, or nothing), and reads the echo's greeting.
func dialStream(port int, header []byte) (*framework.StreamConn, error) {
	return framework.DialStreamEcho("127.0.0.1:"+strconv.Itoa(port), header, 3*time.Second)
}

// streamEchoTimeout bounds one line's echo through Portico.
const streamEchoTimeout = 3 * time.Second

// podOf is the pod that answers a new connection to port.
func podOf(port int) (string, error) {
	c, err := dialStream(port, nil)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.Pod, nil
}

// udpLoop sends one UDP query a new session at a time to port until
// stop, and counts the queries, the answers missing and the pods that
// answered.
type udpLoop struct {
	sent, lost atomic.Int64
	mu         sync.Mutex
	pods       map[string]int
	errs       []string
	done       chan struct{}
}

func startUDPLoop(port int, stop <-chan struct{}) *udpLoop {
	l := &udpLoop{pods: map[string]int{}, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			q := "q" + strconv.Itoa(i)
			l.sent.Add(1)
			got, err := framework.UDPExchange("127.0.0.1:"+strconv.Itoa(port), q, time.Second)
			pod, rest, _ := strings.Cut(strings.TrimPrefix(got, "pod="), " ")
			l.mu.Lock()
			if err != nil || rest != q {
				l.lost.Add(1)
				if len(l.errs) < 5 {
					l.errs = append(l.errs, fmt.Sprintf("%s: %q %v", q, got, err))
				}
			} else {
				l.pods[pod]++
			}
			l.mu.Unlock()
		}
	}()
	return l
}

// layer4Portico is a controller of its own for ns, with the TCP and UDP
// services ConfigMaps ns/tcp and ns/udp, SSL passthrough and the
// ConfigMap ns/portico.
func layer4Portico(t testing.TB, ns string) *portico {
	t.Helper()
	// nginx workers run as nobody: they read the peer files and connect
	// to the unix sockets under it (t.TempDir is 0700).
	dir := filepath.Join(env.workDir, ns)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := startPortico(env.binary, env.cp.Kubeconfig(), dir, "--watch-namespace="+ns, "--update-status=false",
		"--tcp-services-configmap="+ns+"/tcp", "--udp-services-configmap="+ns+"/udp", "--enable-ssl-passthrough", "--configmap="+ns+"/portico")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("controller log tail:\n%s", p.logTail())
		}
		p.stop()
	})
	return p
}

// TCP and UDP services: the ConfigMaps' entries served, a bad one refused
// alone with a Warning Event, a port change, endpoint changes under a
// running TCP stream and under UDP queries (no reset, no loss, no
// reload), the PROXY protocol both ways, what a reload costs UDP queries,
// and proxy-stream-timeout from the controller's ConfigMap.
func TestLayer4Services(t *testing.T) {
	framework.SkipUnlessRoot(t)
	ns := namespace(t, "l4")
	db := newStreamApp(t, ns, "db", 1, false)
	newStreamApp(t, ns, "pp", 1, true)
	tcpPort, ppBoth, ppSend, udpPort := freePort(), freePort(), freePort(), freePort()
	p := layer4Portico(t, ns)
	putServicesConfigMap(t, ns, "tcp", map[string]string{
		strconv.Itoa(tcpPort): ns + "/db:5432",
		strconv.Itoa(ppBoth):  ns + "/pp:tcp:PROXY:PROXY",
		strconv.Itoa(ppSend):  ns + "/pp:5432::PROXY",
		// Refused alone: Portico's own port, not a port, no service port.
		strconv.Itoa(p.httpPort): ns + "/db:5432",
		"x":                      ns + "/db:5432",
		"7":                      ns + "/db",
	})
	putServicesConfigMap(t, ns, "udp", map[string]string{strconv.Itoa(udpPort): ns + "/db:53"})

	var greeting *framework.StreamConn
	eventually(t, "the TCP service answers", func() error {
		c, err := dialStream(tcpPort, nil)
		if err != nil {
			return err
		}
		greeting = c
		return nil
	})
	defer greeting.Close()
	if greeting.Pod != "db-0" || !strings.HasPrefix(greeting.Client, env.net.Gateway().String()+":") {
		t.Errorf("TCP service: pod %q saw client %q; want db-0 and nginx's address %s", greeting.Pod, greeting.Client, env.net.Gateway())
	}
	if err := greeting.Echoes("hello", streamEchoTimeout); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the UDP service answers", func() error {
		got, err := framework.UDPExchange("127.0.0.1:"+strconv.Itoa(udpPort), "who", time.Second)
		if err != nil || got != "pod=db-0 who" {
			return fmt.Errorf("%q, %v", got, err)
		}
		return nil
	})
	// A datagram longer than nginx's default buffer (16k) passes whole.
	big := strings.Repeat("d", 30000)
	if got, err := framework.UDPExchange("127.0.0.1:"+strconv.Itoa(udpPort), big, time.Second); err != nil || got != "pod=db-0 "+big {
		t.Errorf("a 30000-byte datagram: %d bytes back, %v", len(got), err)
	}

	t.Run("bad entries refused alone", func(t *testing.T) {
		eventually(t, "Warning Events on the ConfigMap", func() error {
			evs, err := env.client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=tcp"})
			if err != nil {
				return err
			}
			var found []string
			for _, e := range evs.Items {
				if e.Type == corev1.EventTypeWarning && e.Reason == "InvalidStreamService" {
					found = append(found, e.Message)
				}
			}
			all := strings.Join(found, "\n")
			for _, want := range []string{"data[" + strconv.Itoa(p.httpPort) + "]: port " + strconv.Itoa(p.httpPort) + " is Portico's HTTP port",
				`data[x]: key "x" is not a port number`, `data[7]: "` + ns + `/db" is not namespace/service:port`} {
				if !strings.Contains(all, want) {
					return fmt.Errorf("no Warning %q among %q", want, found)
				}
			}
			return nil
		})
		if c, err := net.DialTimeout("tcp", "127.0.0.1:7", time.Second); err == nil {
			c.Close()
			t.Errorf("the refused port 7 is served")
		}
	})

	t.Run("diagnose and conf", func(t *testing.T) {
		tcp, udp := "tcp/"+strconv.Itoa(tcpPort), "udp/"+strconv.Itoa(udpPort)
		// The ConfigMaps come from the controller's /status.
		out, code := porticoTool(t, p, "diagnose", tcp)
		for _, want := range []string{"request " + tcp, "✓  configmap  ConfigMap " + ns + "/tcp: " + strconv.Itoa(tcpPort) + " → Service " + ns + "/db port 5432",
			"✓  service    Service " + ns + "/db port tcp/5432→9000/TCP", "1 ready, 0 not ready",
			tcp + ": nginx picks one of 1 endpoints per session (" + db.pods[0].host.Addr().String() + ":9000)", "no hop is broken"} {
			if !strings.Contains(out, want) {
				t.Errorf("diagnose %s lacks %q:\n%s", tcp, want, out)
			}
		}
		if code != 0 {
			t.Errorf("diagnose %s exited %d", tcp, code)
		}
		out, code = porticoTool(t, p, "diagnose", udp)
		if want := udp + ": nginx picks one of 1 endpoints per session (" + db.pods[0].host.Addr().String() + ":9053)"; code != 0 || !strings.Contains(out, want) {
			t.Errorf("diagnose %s exited %d, want 0 and %q:\n%s", udp, code, want, out)
		}
		refused := "tcp/" + strconv.Itoa(p.httpPort)
		out, code = porticoTool(t, p, "diagnose", refused)
		if want := fmt.Sprintf("the entry for port %d is refused: port %d is Portico's HTTP port", p.httpPort, p.httpPort); code != 1 || !strings.Contains(out, want) {
			t.Errorf("diagnose %s exited %d, want 1 and %q:\n%s", refused, code, want, out)
		}
		// conf reads nginx.conf and the peer file nginx reads.
		out, code = porticoTool(t, p, "conf", "--service", tcp)
		for _, want := range []string{"# " + tcp + " to " + ns + "/db:5432", "listen " + strconv.Itoa(tcpPort) + ";", "proxy_pass $portico_peer;",
			"# nginx picks one of these endpoints per session", "#   " + db.pods[0].host.Addr().String() + ":9000"} {
			if code != 0 || !strings.Contains(out, want) {
				t.Errorf("conf --service %s exited %d, lacks %q:\n%s", tcp, code, want, out)
			}
		}
		out, code = porticoTool(t, p, "conf", "--stream")
		if code != 0 || !strings.Contains(out, "listen "+strconv.Itoa(udpPort)+" udp;") || !strings.Contains(out, "ssl_preread on;") {
			t.Errorf("conf --stream exited %d:\n%s", code, out)
		}
	})

	t.Run("PROXY protocol both ways", func(t *testing.T) {
		claimed := netip.MustParseAddrPort("198.18.77.7:4242")
		for _, tc := range []struct {
			name   string
			port   int
			header []byte
			want   string
		}{
			// nginx reads the client's v2 header and sends v1 on: the
			// backend sees the address the header claimed.
			{"decode v2, encode", ppBoth, echo.ProxyV2(claimed, netip.MustParseAddrPort("127.0.0.1:1")), claimed.String()},
			{"decode v1, encode", ppBoth, []byte("PROXY TCP4 198.18.77.8 127.0.0.1 4243 1\r\n"), "198.18.77.8:4243"},
			// Encode only: the backend sees the real client, this test.
			{"encode", ppSend, nil, "127.0.0.1:"},
		} {
			var c *framework.StreamConn
			eventually(t, tc.name, func() error {
				var err error
				c, err = dialStream(tc.port, tc.header)
				return err
			})
			if c.Pod != "pp-0" || !strings.HasPrefix(c.Client, tc.want) {
				t.Errorf("%s: pod %q saw client %q, want %q", tc.name, c.Pod, c.Client, tc.want)
			}
			if err := c.Echoes("after the header", streamEchoTimeout); err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			c.Close()
		}
	})

	parent := t // pods outlive the subtests
	t.Run("endpoint change under a running stream and UDP queries", func(t *testing.T) {
		st, err := p.status()
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		udp := startUDPLoop(udpPort, stop)
		time.Sleep(200 * time.Millisecond)
		// db-1 comes, db-0 leaves the EndpointSlice but keeps serving
		// (a terminating Pod draining its connections).
		db.addPod(parent, "db-1")
		db.pods[0].listed = false
		db.syncSlice(t)
		eventually(t, "new connections go to db-1", func() error {
			if pod, err := podOf(tcpPort); err != nil || pod != "db-1" {
				return fmt.Errorf("served by %q, %v", pod, err)
			}
			return nil
		})
		eventually(t, "UDP queries go to db-1", func() error {
			udp.mu.Lock()
			defer udp.mu.Unlock()
			if udp.pods["db-1"] < 20 {
				return fmt.Errorf("db-1 answered %d", udp.pods["db-1"])
			}
			return nil
		})
		close(stop)
		<-udp.done
		// The stream opened before the change still runs, to db-0.
		if err := greeting.Echoes("still here", streamEchoTimeout); err != nil {
			t.Errorf("the stream opened before the endpoint change: %v", err)
		}
		if n := udp.lost.Load(); n != 0 {
			t.Errorf("%d of %d UDP queries unanswered across the endpoint change: %q", n, udp.sent.Load(), udp.errs)
		}
		after, err := p.status()
		if err != nil {
			t.Fatal(err)
		}
		if after.Nginx.Reloads != st.Nginx.Reloads {
			t.Errorf("the endpoint change reloaded nginx (%d -> %d reloads)", st.Nginx.Reloads, after.Nginx.Reloads)
		}
		t.Logf("%d UDP queries, none lost; by pod %v", udp.sent.Load(), udp.pods)
	})

	t.Run("port change", func(t *testing.T) {
		st, _ := p.status()
		tcpMoved := freePort()
		// A stream on another port runs across the reload. (A UDP
		// exchange in flight in an old worker at the reload loses its
		// answer, nginx 1.22 closing the old workers' listening sockets:
		// BenchmarkLayer4 counts it; endpoint changes never reload.)
		other, err := dialStream(ppSend, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		putServicesConfigMap(t, ns, "tcp", map[string]string{
			strconv.Itoa(tcpMoved): ns + "/db:5432",
			strconv.Itoa(ppBoth):   ns + "/pp:tcp:PROXY:PROXY",
			strconv.Itoa(ppSend):   ns + "/pp:5432::PROXY",
		})
		eventually(t, "the service answers on its new port", func() error {
			_, err := podOf(tcpMoved)
			return err
		})
		eventually(t, "the old port is closed", func() error {
			if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(tcpPort), time.Second); err == nil {
				c.Close()
				return fmt.Errorf("port %d still accepts", tcpPort)
			}
			return nil
		})
		after, _ := p.status()
		if after.Nginx.Reloads <= st.Nginx.Reloads {
			t.Errorf("a port change did not reload nginx (%d -> %d)", st.Nginx.Reloads, after.Nginx.Reloads)
		}
		if err := other.Echoes("across the reload", streamEchoTimeout); err != nil {
			t.Errorf("a stream on another port across the reload: %v", err)
		}
	})

	t.Run("UDP across a reload", func(t *testing.T) {
		// A udp-services change (a new port) reloads nginx, while
		// queries go one at a time, each from its own socket, and while
		// one query's answer is in flight in an old worker (the echo
		// answers it after slowMs). nginx (1.22 and later) ends an old
		// worker's UDP sessions when it stops, having closed the
		// listening socket their answers leave by: that answer is lost,
		// and so at most one of the queries one at a time
		// (docs/layer4.md). Queries after the reload are answered.
		const slowMs = 5000
		udpAddr := "127.0.0.1:" + strconv.Itoa(udpPort)
		slow := make(chan error, 1)
		go func() {
			q := "sleep=" + strconv.Itoa(slowMs) + " slow"
			got, err := framework.UDPExchange(udpAddr, q, slowMs*time.Millisecond+2*time.Second)
			if err == nil && got != "pod=db-0 "+q {
				err = fmt.Errorf("answer %q", got)
			}
			slow <- err
		}()
		time.Sleep(300 * time.Millisecond) // the slow query reaches a worker
		st, _ := p.status()
		stop := make(chan struct{})
		loop := startUDPLoop(udpPort, stop)
		t0 := time.Now()
		putServicesConfigMap(t, ns, "udp", map[string]string{strconv.Itoa(udpPort): ns + "/db:53", strconv.Itoa(freePort()): ns + "/db:53"})
		eventually(t, "the reload", func() error {
			if now, _ := p.status(); now.Nginx.Reloads <= st.Nginx.Reloads {
				return fmt.Errorf("%d reloads", now.Nginx.Reloads)
			}
			return nil
		})
		reloaded := time.Since(t0)
		sentAtReload := loop.sent.Load()
		// 20 more queries, or 10 s (a lost one waits out its second).
		for end := time.Now().Add(10 * time.Second); loop.sent.Load()-sentAtReload < 20 && time.Now().Before(end); {
			time.Sleep(50 * time.Millisecond)
		}
		close(stop)
		<-loop.done
		t.Logf("reload %v after the change; %d queries one at a time, %d unanswered %q", reloaded, loop.sent.Load(), loop.lost.Load(), loop.errs)
		if n := loop.lost.Load(); n > 1 {
			t.Errorf("%d of %d UDP queries one at a time unanswered across one reload, want at most the one in flight: %q", n, loop.sent.Load(), loop.errs)
		}
		if after := loop.sent.Load() - sentAtReload; after < 20 {
			t.Errorf("only %d queries after the reload", after)
		}
		err := <-slow
		switch {
		case reloaded > (slowMs-1000)*time.Millisecond:
			t.Logf("the reload took %v, about the slow answer's %d ms: its fate proves nothing (%v)", reloaded, slowMs, err)
		case err == nil:
			t.Errorf("the answer in flight in an old worker at the reload came back: nginx keeps UDP sessions across a reload now; docs/layer4.md says it loses them")
		default:
			t.Logf("the answer in flight at the reload is lost, as nginx 1.22 does: %v", err)
		}
	})

	t.Run("proxy-stream-timeout", func(t *testing.T) {
		// The ConfigMap's proxy-stream-timeout closes a session that
		// passes nothing for that long (600 s without it).
		st, _ := p.status()
		putServicesConfigMap(t, ns, "portico", map[string]string{"proxy-stream-timeout": "1s"})
		eventually(t, "the reload", func() error {
			if now, _ := p.status(); now.Nginx.Reloads <= st.Nginx.Reloads {
				return fmt.Errorf("%d reloads", now.Nginx.Reloads)
			}
			return nil
		})
		c, err := dialStream(ppSend, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		t0 := time.Now()
		_ = c.SetReadDeadline(t0.Add(5 * time.Second))
		n, err := c.Read(make([]byte, 1))
		if d := time.Since(t0); !errors.Is(err, io.EOF) || d < 900*time.Millisecond {
			t.Errorf("an idle session with proxy-stream-timeout 1s: read %d bytes, %v after %v; want EOF after about 1 s", n, err, d)
		}
	})
}

// porticoTool runs `portico diagnose` (against p's controller) or
// `portico conf` (on p's config dir) and returns the output and the exit
// code.
func porticoTool(t *testing.T, p *portico, cmd string, args ...string) (string, int) {
	t.Helper()
	flags := []string{cmd, "--controller-url=http://127.0.0.1:" + strconv.Itoa(p.healthzPort),
		"--lua-url=http://127.0.0.1:" + strconv.Itoa(p.statusPort)}
	if cmd == "diagnose" {
		flags = append(flags, "--kubeconfig="+env.cp.Kubeconfig())
	} else {
		flags = append(flags[:1], "--config-dir="+p.configDir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, env.binary, append(flags, args...)...)
	out, err := c.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("portico %s: %v\n%s", cmd, err, out)
	return "", 0
}

// curlIn runs curl in host's network namespace and returns its output.
// curl's --max-time bounds it.
func curlIn(host *framework.Host, args ...string) (string, error) {
	cmd := host.Command("curl", append([]string{"-sS", "--max-time", "5", "--noproxy", "*"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// SSL passthrough: a passthrough host's TLS goes to its backend untouched
// (the client sees the backend's certificate; SNI reaches it); another
// host on the same port still ends at Portico with its certificate, over
// HTTP/2, its backend seeing the real client address.
func TestLayer4SSLPassthrough(t *testing.T) {
	framework.SkipUnlessRoot(t)
	ns := namespace(t, "pass")
	backend, backendCert := newTLSAppCert(t, ns, "tlsapp")
	passHost := "tlsapp.internal"
	site := newApp(t, ns, "site", 1, "")
	siteCert := newCert(t, time.Now().Add(time.Hour), "site.example.com")
	putTLSSecret(t, ns, "site-tls", siteCert)
	p := layer4Portico(t, ns)
	createIngress(t, newIngress(ns, "pass", map[string]string{"nginx.ingress.kubernetes.io/ssl-passthrough": "true"},
		hostRule(passHost, prefixPath("/", backend.name))))
	ing := newIngress(ns, "site", nil, hostRule("site.example.com", prefixPath("/", site.name)))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"site.example.com"}, SecretName: "site-tls"}}
	createIngress(t, ing)

	client, err := env.net.AddHost("pass-client")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	dir := t.TempDir()
	backendCA, siteCA := filepath.Join(dir, "backend.crt"), filepath.Join(dir, "site.crt")
	if err := os.WriteFile(backendCA, backendCert.crt, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(siteCA, siteCert.crt, 0o644); err != nil {
		t.Fatal(err)
	}
	gw := env.net.Gateway().String()
	port := strconv.Itoa(p.httpsPort)

	t.Run("passthrough host", func(t *testing.T) {
		// curl checks the certificate against the backend's own: only the
		// backend holds its key.
		var resp echo.Response
		eventually(t, "the passthrough host answers with the backend's certificate", func() error {
			out, err := curlIn(client, "--cacert", backendCA, "--resolve", passHost+":"+port+":"+gw, "https://"+passHost+":"+port+"/x")
			if err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			return json.Unmarshal([]byte(out), &resp)
		})
		if resp.Pod != "tlsapp-0" || resp.ServerName != passHost || resp.Path != "/x" {
			t.Errorf("passthrough: pod %q, SNI %q, path %q", resp.Pod, resp.ServerName, resp.Path)
		}
		// Straight from Go too: the leaf is the backend's.
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(backendCert.crt)
		conn, err := tls.Dial("tcp", "127.0.0.1:"+port, &tls.Config{ServerName: passHost, RootCAs: pool})
		if err != nil {
			t.Fatal(err)
		}
		leaf := conn.ConnectionState().PeerCertificates[0]
		conn.Close()
		if string(leaf.Raw) != string(backendCert.der) {
			t.Errorf("the passthrough host's certificate is %v, not the backend's", leaf.Subject)
		}
	})

	t.Run("terminating host on the same port", func(t *testing.T) {
		var resp echo.Response
		var proto string
		eventually(t, "site.example.com answers over HTTP/2 with Portico's certificate", func() error {
			out, err := curlIn(client, "--http2", "-w", "\n%{http_version}", "--cacert", siteCA,
				"--resolve", "site.example.com:"+port+":"+gw, "https://site.example.com:"+port+"/y")
			if err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			body, v, _ := strings.Cut(out, "\n")
			proto = v
			return json.Unmarshal([]byte(body), &resp)
		})
		if resp.Pod != "site-0" || proto != "2" {
			t.Errorf("site: pod %q over HTTP %q", resp.Pod, proto)
		}
		clientAddr := client.Addr().String()
		if got := resp.Headers["X-Real-Ip"]; len(got) != 1 || got[0] != clientAddr {
			t.Errorf("X-Real-IP %q, want the client's %s", got, clientAddr)
		}
		if got := resp.Headers["X-Forwarded-For"]; len(got) != 1 || got[0] != clientAddr {
			t.Errorf("X-Forwarded-For %q, want the client's %s", got, clientAddr)
		}
		if got := resp.Headers["X-Forwarded-Port"]; len(got) != 1 || got[0] != port {
			t.Errorf("X-Forwarded-Port %q, want %s", got, port)
		}
		if got := resp.Headers["X-Forwarded-Proto"]; len(got) != 1 || got[0] != "https" {
			t.Errorf("X-Forwarded-Proto %q", got)
		}
	})

	t.Run("diagnose and conf", func(t *testing.T) {
		out, code := porticoTool(t, p, "diagnose", passHost)
		want := "ssl-passthrough: TLS connections naming " + passHost + " (SNI) on the HTTPS port go untouched to backend " + ns + "/tlsapp:"
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("diagnose %s exited %d, want 0 and %q:\n%s", passHost, code, want, out)
		}
		out, _ = porticoTool(t, p, "diagnose", "site.example.com")
		if strings.Contains(out, "ssl-passthrough") || !strings.Contains(out, "Secret "+ns+"/site-tls") {
			t.Errorf("diagnose site.example.com:\n%s", out)
		}
		out, code = porticoTool(t, p, "conf", "--host", passHost)
		for _, w := range []string{"pass through untouched (ssl-passthrough)", `"` + passHost + `" "tls-` + ns + `_tlsapp:`, "ssl_preread on;"} {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("conf --host %s exited %d, lacks %q:\n%s", passHost, code, w, out)
			}
		}
		if out, _ = porticoTool(t, p, "conf", "--host", "site.example.com"); strings.Contains(out, "ssl_preread") {
			t.Errorf("conf --host site.example.com shows the passthrough front:\n%s", out)
		}
	})

	t.Run("plain HTTP to the passthrough host", func(t *testing.T) {
		// As in ingress-nginx: proxied to the backend over HTTPS.
		resp := servedByTLS(t, p, passHost)
		if resp.Pod != "tlsapp-0" {
			t.Errorf("HTTP to the passthrough host: pod %q", resp.Pod)
		}
	})

	t.Run("endpoint change", func(t *testing.T) {
		st, _ := p.status()
		backend.pods[0].ready = false
		backend.syncSlice(t, "")
		eventually(t, "the passthrough host has no endpoint", func() error {
			conn, err := tls.Dial("tcp", "127.0.0.1:"+port, &tls.Config{ServerName: passHost, InsecureSkipVerify: true}) //nolint:gosec // any certificate: the connection must fail
			if err == nil {
				conn.Close()
				return fmt.Errorf("still served")
			}
			return nil
		})
		after, _ := p.status()
		if after.Nginx.Reloads != st.Nginx.Reloads {
			t.Errorf("an endpoint change of a passthrough host reloaded nginx")
		}
	})
}

// servedByTLS GETs http://host/ on p's HTTP port until it answers 200.
func servedByTLS(t *testing.T, p *portico, host string) echo.Response {
	t.Helper()
	var resp echo.Response
	c := framework.NewHTTPClient()
	eventually(t, "http://"+host+"/ answers", func() error {
		code, r, body, err := framework.GetEcho(c, "http://127.0.0.1:"+strconv.Itoa(p.httpPort)+"/", host)
		if err != nil || code != 200 || r == nil {
			return fmt.Errorf("%d %v %s", code, err, short(string(body)))
		}
		resp = *r
		return nil
	})
	return resp
}
