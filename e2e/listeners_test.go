package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// The ConfigMap's listeners on the real stack, with a controller of their
// own (its ConfigMap changes where nginx listens): IPv6 listeners answer
// on ::1 by default as ingress-nginx's do (HTTP and HTTPS), disable-ipv6
// removes them; bind-address narrows the traffic ports to its addresses
// (another address of the host is refused), and an address the host lacks
// is refused with a Warning Event while the last good value stays.
func TestConfigMapListeners(t *testing.T) {
	if _, err := os.Stat("/proc/net/if_inet6"); err != nil {
		t.Skip("no IPv6 on this host")
	}
	ns := namespace(t, "listen")
	a := newApp(t, ns, "a", 1, "")
	const host = "listen.example.com"
	createIngress(t, newIngress(ns, "listen", nil, hostRule(host, prefixPath("/", "a"))))
	cms := env.client.CoreV1().ConfigMaps(ns)
	cm, err := cms.Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "listen"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setData := func(data map[string]string) {
		t.Helper()
		cm.Data = data
		if cm, err = cms.Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := startPortico(env.binary, env.cp.Kubeconfig(), dir, "--watch-namespace="+ns, "--update-status=false", "--configmap="+ns+"/listen")
	if err != nil {
		t.Fatal(err)
	}
	saved := env.portico
	env.portico = p
	t.Cleanup(func() { env.portico = saved; p.stop() })
	servedBy(t, host, "/", a)

	gw := env.net.Gateway().String() // an address of this host besides loopback
	// answersOn reports whether host's route answers 200 on addr's HTTP
	// port, and whether addr's HTTPS port completes a handshake.
	answersOn := func(addr string) (httpOK, httpsOK bool) {
		resp, _, err := rawGet(net.JoinHostPort(addr, fmt.Sprint(p.httpPort)), host, "/")
		httpOK = err == nil && resp.StatusCode == 200
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", net.JoinHostPort(addr, fmt.Sprint(p.httpsPort)),
			&tls.Config{ServerName: host, InsecureSkipVerify: true}) //nolint:gosec // any certificate
		if err == nil {
			c.Close()
		}
		return httpOK, err == nil
	}
	expect := func(what string, want map[string]bool) {
		t.Helper()
		eventually(t, what, func() error {
			var wrong []string
			for addr, on := range want {
				if h, s := answersOn(addr); h != on || s != on {
					wrong = append(wrong, fmt.Sprintf("%s: HTTP %v HTTPS %v, want %v", addr, h, s, on))
				}
			}
			if len(wrong) > 0 {
				return fmt.Errorf("%s", strings.Join(wrong, "; "))
			}
			return nil
		})
	}
	expect("every address, IPv6 too", map[string]bool{"127.0.0.1": true, "::1": true, gw: true})
	if conf := runningConf(t); !strings.Contains(conf, fmt.Sprintf("listen [::]:%d default_server reuseport backlog=4096;", p.httpPort)) {
		t.Error("nginx.conf has no IPv6 listener with reuseport on the catch-all server")
	}

	setData(map[string]string{"disable-ipv6": "true"})
	expect("IPv4 only", map[string]bool{"127.0.0.1": true, "::1": false, gw: true})

	setData(map[string]string{"bind-address": gw + ",::1"})
	expect("bind-address", map[string]bool{"127.0.0.1": false, "::1": true, gw: true})

	// An address the host does not have: refused, the last good kept.
	other := env.net.Gateway().Next().Next().Next().String()
	setData(map[string]string{"bind-address": "127.0.0.1," + other})
	eventually(t, "Warning Event for the foreign address", func() error {
		list, err := env.client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{
			FieldSelector: fields.Set{"involvedObject.kind": "ConfigMap", "involvedObject.name": "listen", "type": corev1.EventTypeWarning}.String()})
		if err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == "InvalidOption" && strings.Contains(e.Message, "data[bind-address]") && strings.Contains(e.Message, other+" is not") {
				return nil
			}
		}
		return fmt.Errorf("%d events, none InvalidOption for data[bind-address] naming %s", len(list.Items), other)
	})
	expect("the last good bind-address", map[string]bool{"127.0.0.1": false, "::1": true, gw: true})
}
