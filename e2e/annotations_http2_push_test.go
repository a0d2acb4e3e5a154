package e2e

import (
	"fmt"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
)

// http2-push-preload is accepted and changes nothing, as in ingress-nginx
// v1.15 (nginx dropped HTTP/2 server push): the Ingress is served over
// HTTP/2 as without it, with no Event; a value that is not a boolean is
// refused like any other.
func TestAnnotationsHTTP2PushPreload(t *testing.T) {
	ns := namespace(t, "push")
	a := newApp(t, ns, "a", 1, "")
	host := "push." + ns + ".example.com"
	c := newCert(t, time.Now().Add(time.Hour), host)
	putTLSSecret(t, ns, "tls", c)
	ing := newIngress(ns, "push", map[string]string{ann + "http2-push-preload": "true"}, hostRule(host, prefixPath("/", a.name)))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "tls"}}
	createIngress(t, ing)
	createIngress(t, newIngress(ns, "bad", map[string]string{ann + "http2-push-preload": "yes please"},
		hostRule("bad."+ns+".example.com", prefixPath("/", a.name))))
	client := httpsClient(c)
	eventually(t, "served over HTTP/2", func() error {
		resp, e, err := httpsGet(client, host, "/")
		if err != nil {
			return err
		}
		if resp.ProtoMajor != 2 || e.Service != a.name {
			return fmt.Errorf("%s from %s", resp.Proto, e.Service)
		}
		return nil
	})
	eventWith(t, ns, "bad", "InvalidAnnotation", "http2-push-preload")
	if evs, err := warningEvents(ns, "push"); err != nil || len(evs) != 0 {
		t.Errorf("Warning Events on push: %v %v", evs, err)
	}
}
