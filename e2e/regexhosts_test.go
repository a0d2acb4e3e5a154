package e2e

import (
	"context"
	"fmt"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// backendPath waits until host+path is served by a and returns the path
// and query the backend saw.
func backendPath(t *testing.T, host, path string, a *app) string {
	t.Helper()
	r := servedBy(t, host, path, a)
	if r.echo.RawQuery != "" {
		return r.echo.Path + "?" + r.echo.RawQuery
	}
	return r.echo.Path
}

// The rewrite example of ingress-nginx's docs (docs/examples/rewrite):
// rewrite-target /$2 on /something(/|$)(.*), and the same with a Prefix
// path and no use-regex (rewrite-target alone makes the paths regexes),
// answering with the paths ingress-nginx gives the backend.
func TestRegexRewriteExample(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "rewrite")
	a := newApp(t, ns, "a", 1, "")
	b := newApp(t, ns, "b", 1, "")
	for _, kind := range servingKinds {
		t.Run(kind.name, func(t *testing.T) {
			host := "rewrite-" + kind.name + ".bar.com"
			createIngress(t, newIngress(ns, "rewrite-"+kind.name, kind.anns(ann+"use-regex", "true", ann+"rewrite-target", "/$2"),
				hostRule(host, pathOf("/something(/|$)(.*)", networkingv1.PathTypeImplementationSpecific, "a", 80))))
			createIngress(t, newIngress(ns, "prefix-"+kind.name, map[string]string{ann + "rewrite-target": "/$2"},
				hostRule(host, prefixPath("/other(/|$)(.*)", "b"))))
			for _, c := range []struct {
				path, want string
				app        *app
			}{
				{"/something", "/", a}, {"/something/", "/", a}, {"/something/new", "/new", a},
				{"/something/new?x=1", "/new?x=1", a}, {"/SOMETHING/New", "/New", a},
				{"/other", "/", b}, {"/other/a/b", "/a/b", b},
			} {
				if got := backendPath(t, host, c.path, c.app); got != c.want {
					t.Errorf("%s: the backend saw %s, want %s", c.path, got, c.want)
				}
			}
			if r := get(t, host, "/somethingelse"); r.code != 404 {
				t.Errorf("/somethingelse: %d %s, want 404 (the regex needs / or the end after /something)", r.code, short(r.body))
			}
		})
	}
}

// ingress-nginx's documented warning (docs/user-guide/ingress-path-matching.md):
// once one Ingress of a host uses regex, every path of the host is a
// case-insensitive regex anchored at the start only, another Ingress's
// Prefix path too: "/app" then matches "/application". Deleting the regex
// Ingress gives the Prefix path its own meaning back.
func TestRegexHostChangesOtherIngress(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "regexhost")
	a := newApp(t, ns, "a", 1, "")
	b := newApp(t, ns, "b", 1, "")
	for _, kind := range servingKinds {
		t.Run(kind.name, func(t *testing.T) {
			host := "regex-" + kind.name + ".example.com"
			createIngress(t, newIngress(ns, "plain-"+kind.name, kind.anns(), hostRule(host, prefixPath("/app", "a"))))
			servedBy(t, host, "/app/x", a)
			if r := get(t, host, "/application"); r.code != 404 {
				t.Fatalf("Prefix /app serves /application before any regex: %d %s", r.code, short(r.body))
			}
			regex := createIngress(t, newIngress(ns, "regex-"+kind.name, map[string]string{ann + "use-regex": "true"},
				hostRule(host, pathOf("/b[0-9]+", networkingv1.PathTypeImplementationSpecific, "b", 80))))
			servedBy(t, host, "/b12", b)
			servedBy(t, host, "/application", a)
			servedBy(t, host, "/APP/x", a)
			if err := env.client.NetworkingV1().Ingresses(ns).Delete(context.Background(), regex.Name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			answers(t, host, "/application", 404)
			servedBy(t, host, "/app/x", a)
			if r := get(t, host, "/APP/x"); r.code != 404 {
				t.Errorf("/APP/x after the regex Ingress is gone: %d, want 404 (%s)", r.code, fmt.Sprint(short(r.body)))
			}
		})
	}
}
