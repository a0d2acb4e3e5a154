package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// session-cookie-expires and session-cookie-max-age as ingress-nginx's
// sticky balancer writes them: Expires is the time that many seconds from
// now in nginx's cookie format ("Mon, 02-Jan-06 15:04:05 GMT"), Max-Age
// the number of seconds; without either the cookie is a session cookie.
// On a routed host and a host with a server block.
func TestStickyCookieExpiry(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "stickyexp")
	a := newApp(t, ns, "a", 2, "")
	kinds := hostKinds(ns + ".example.com")
	cases := []struct {
		name    string
		kv      map[string]string
		expires time.Duration // 0: no Expires
		maxAge  string        // "": no Max-Age
	}{
		{"both", map[string]string{"session-cookie-expires": "172800", "session-cookie-max-age": "259200"}, 48 * time.Hour, "259200"},
		{"expires", map[string]string{"session-cookie-expires": "3600"}, time.Hour, ""},
		{"maxage", map[string]string{"session-cookie-max-age": "600"}, 0, "600"},
		{"session", nil, 0, ""},
	}
	var hosts []hostKind
	for _, k := range kinds {
		for _, c := range cases {
			host := c.name + "." + k.host
			hosts = append(hosts, hostKind{k.name, host})
			kv := map[string]string{"affinity": "cookie", "session-cookie-name": "route"}
			for n, v := range c.kv {
				kv[n] = v
			}
			createIngress(t, newIngress(ns, k.name+"-"+c.name, k.annotations(kv), hostRule(host, prefixPath("/", "a"))))
		}
	}
	for i, h := range hosts {
		c := cases[i%len(cases)]
		eventually(t, h.host+": Set-Cookie route", func() error {
			before := time.Now().UTC()
			r, set := getWith(t, h.host, "/", nil)
			after := time.Now().UTC()
			if serviceOf(r) != a.name || !strings.HasPrefix(set, "route=") {
				return fmt.Errorf("%s, Set-Cookie %q", serviceOf(r), set)
			}
			attrs := map[string]string{}
			for _, part := range strings.Split(set, ";")[1:] {
				k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
				attrs[k] = v
			}
			if got, ok := attrs["Max-Age"]; c.maxAge == "" && ok || c.maxAge != "" && got != c.maxAge {
				t.Errorf("%s: Set-Cookie %q, want Max-Age %q", h.host, set, c.maxAge)
			}
			got, ok := attrs["Expires"]
			if c.expires == 0 {
				if ok {
					t.Errorf("%s: Set-Cookie %q, want no Expires", h.host, set)
				}
				return nil
			}
			const cookieTime = "Mon, 02-Jan-06 15:04:05 GMT"
			at, err := time.Parse(cookieTime, got)
			if err != nil {
				t.Errorf("%s: Set-Cookie %q: Expires not in nginx's cookie format %q: %v", h.host, set, cookieTime, err)
				return nil
			}
			if lo, hi := before.Add(c.expires).Truncate(time.Second), after.Add(c.expires); at.Before(lo) || at.After(hi) {
				t.Errorf("%s: Set-Cookie %q: Expires %s, want %s from now (%s to %s)", h.host, set, at, c.expires, lo, hi)
			}
			return nil
		})
	}
	checkKinds(t, hosts)
}
