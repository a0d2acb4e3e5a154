package e2e

import (
	"fmt"
	"testing"
)

// mirror-target: each request is copied to the mirror (whose answer is
// dropped): a target with a path gets the query string, one with
// $request_uri the request's URI; the copy carries the body unless
// mirror-request-body is off (then no body and no Content-Length), and
// the Host of mirror-host, else the target's host. A host name is resolved at request time (the suite's
// nameserver).
func TestAnnotationsMirror(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "mirror")
	a := newApp(t, ns, "a", 1, "")
	m := newApp(t, ns, "mirror", 1, "")
	mirrorName := "copies." + ns + ".example.com"
	env.dns.add(mirrorName, m.pods[0].host.Addr())
	ip := m.pods[0].host.Addr().String()
	kinds := hostKinds(ns + ".example.com")
	for _, k := range kinds {
		for name, kv := range map[string]map[string]string{
			"path":   {"mirror-target": "http://" + ip + ":8080/copy/" + k.name},
			"uri":    {"mirror-target": "http://" + mirrorName + ":8080$request_uri", "mirror-host": "mirror.internal"},
			"nobody": {"mirror-target": "http://" + ip + ":8080/nobody/" + k.name, "mirror-request-body": "off"},
		} {
			createIngress(t, newIngress(ns, k.name+"-"+name, k.annotations(kv), hostRule(k.host, prefixPath("/"+name, "a"))))
		}
	}
	for _, k := range kinds {
		for _, path := range []string{"/path/x?q=1", "/uri/" + k.name + "?q=2", "/nobody/z"} {
			expect(t, k.name+" "+path+": the backend answers", "POST", k.host, path, nil, "hello", func(r reply) error {
				if err := fromApp(a, 200)(r); err != nil {
					return err
				}
				if r.echo.BodyBytes != 5 {
					return fmt.Errorf("backend read %d bytes", r.echo.BodyBytes)
				}
				return nil
			})
		}
	}
	// The copies, as the mirror saw them.
	want := map[string]string{}
	for _, k := range kinds {
		want["/copy/"+k.name+"?q=1"] = "POST 5 " + ip
		want["/uri/"+k.name+"?q=2"] = "POST 5 mirror.internal"
		want["/nobody/"+k.name] = "POST 0 " + ip
	}
	eventually(t, "the mirror got the copies", func() error {
		got := map[string]string{}
		for _, r := range seen(t, m.pods[0]) {
			got[r.RequestURI] = fmt.Sprintf("%s %d %s", r.Method, r.BodyBytes, r.Host)
		}
		for key, w := range want {
			if got[key] != w {
				return fmt.Errorf("copy %s: got %q, want %q (all: %v)", key, got[key], w, got)
			}
		}
		return nil
	})
	checkKinds(t, kinds)
}
