package e2e

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// A refused annotation never opens a path: a new Ingress whose auth-secret
// is missing answers 503 naming the cause on its paths, which another
// Ingress's broader prefix would otherwise take (ingress-nginx answers
// 503 there too); once it is served, a change to a missing Secret keeps
// its previous version, auth and all, serving. On routed and server-block
// hosts.
func TestRefusedAnnotationNeverOpensAPath(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "refused")
	open := newApp(t, ns, "open", 1, "")
	admin := newApp(t, ns, "admin", 1, "")
	putSecret(t, ns, "users", map[string][]byte{"auth": []byte(sha1Line("alice", "wonderland"))})
	alice := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wonderland"))}
	for _, kind := range servingKinds {
		t.Run(kind.name, func(t *testing.T) {
			host := "refused-" + kind.name + ".example.com"
			createIngress(t, newIngress(ns, "open-"+kind.name, kind.anns(), hostRule(host, prefixPath("/", "open"))))
			servedBy(t, host, "/admin/x", open)
			locked := "locked-" + kind.name
			createIngress(t, newIngress(ns, locked, map[string]string{ann + "auth-type": "basic", ann + "auth-secret": "missing"},
				hostRule(host, prefixPath("/admin", "admin"))))
			cause := fmt.Sprintf("Ingress %s/%s is refused: InvalidAuthSecret at metadata.annotations[nginx.ingress.kubernetes.io/auth-secret]", ns, locked)
			expect(t, "the refused Ingress's path answers 503", "GET", host, "/admin/x", nil, "", func(r reply) error {
				if r.code != 503 || !strings.Contains(r.body, cause) {
					return fmt.Errorf("want 503 naming %q", cause)
				}
				return nil
			})
			for _, p := range []string{"/admin", "/admin/", "/admin/x?y=1"} {
				if r, err := send("GET", host, p, alice, ""); err != nil || r.code != 503 || r.echo != nil {
					t.Errorf("%s: %d %s %v, want 503 and no backend", p, r.code, short(r.body), err)
				}
			}
			eventWith(t, ns, locked, "InvalidAuthSecret", "IngressRejected", "paths answer 503")

			// Served once its Secret is fixed; a change to a missing Secret
			// then keeps that version serving.
			updateAnnotations(t, ns, locked, map[string]string{ann + "auth-secret": "users"})
			expect(t, "basic auth once the Secret is there", "GET", host, "/admin/x", nil, "", status(401))
			expect(t, "basic auth, right password", "GET", host, "/admin/x", alice, "", fromApp(admin, 200))
			updateAnnotations(t, ns, locked, map[string]string{ann + "auth-secret": "gone"})
			eventWith(t, ns, locked, "keeps serving")
			for _, c := range []struct {
				hdr  map[string]string
				want func(reply) error
			}{{nil, status(401)}, {alice, fromApp(admin, 200)}} {
				r, err := send("GET", host, "/admin/x", c.hdr, "")
				if err == nil {
					err = c.want(r)
				}
				if err != nil {
					t.Errorf("the previous version of a refused change: %v (got %d %s)", err, r.code, short(r.body))
				}
			}
		})
	}
}
