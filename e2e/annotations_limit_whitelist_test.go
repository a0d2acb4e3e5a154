package e2e

import "testing"

// limit-whitelist, the older name of limit-allowlist: a client in the
// list is not rate limited, one outside it is. The test client is
// 127.0.0.1; limit-rps 1 allows a burst of 5. On a routed host and a host
// with a server block.
func TestAnnotationsLimitWhitelist(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "limitwl")
	a := newApp(t, ns, "a", 1, "")
	kinds := hostKinds(ns + ".example.com")
	for _, k := range kinds {
		createIngress(t, newIngress(ns, k.name+"-listed", k.annotations(map[string]string{"limit-rps": "1", "limit-whitelist": "10.0.0.0/8, 127.0.0.1/32"}),
			hostRule(k.host, prefixPath("/listed", "a"))))
		createIngress(t, newIngress(ns, k.name+"-unlisted", k.annotations(map[string]string{"limit-rps": "1", "limit-whitelist": "10.0.0.0/8"}),
			hostRule(k.host, prefixPath("/unlisted", "a"))))
	}
	for _, k := range kinds {
		for path, limited := range map[string]bool{"/listed": false, "/unlisted": true} {
			expect(t, k.name+" "+path+" served", "GET", k.host, path, nil, "", fromApp(a, 200))
			counts := map[int]int{}
			for range 30 {
				r, err := send("GET", k.host, path, nil, "")
				if err != nil {
					t.Fatal(err)
				}
				counts[r.code]++
			}
			if limited && (counts[503] < 20 || counts[200]+counts[503] != 30) || !limited && counts[200] != 30 {
				t.Errorf("%s %s: 30 requests at once answered %v, want limited=%v (503 above the burst of 5)", k.name, path, counts, limited)
			}
		}
	}
	checkKinds(t, kinds)
}
