package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/portico-ingress/portico/e2e/framework"
	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

// seen is what the echo pod p echoed so far (its /__seen), asked directly.
func seen(t *testing.T, p *pod) []echo.Response {
	t.Helper()
	resp, err := framework.NewHTTPClient().Get("http://" + p.echo.Addr().String() + "/__seen")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out []echo.Response
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s/__seen: %v: %s", p.name, err, short(string(b)))
	}
	return out
}

// satisfy any: a client the source range allows needs no credentials (and
// the auth service is not asked), and one it refuses gets in with good
// credentials; with satisfy all (the default) it needs both. The test
// client's address is 127.0.0.1.
func TestAnnotationsSatisfy(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "satisfy")
	a := newApp(t, ns, "a", 1, "")
	authSvc := newApp(t, ns, "authsvc", 1, "")
	putSecret(t, ns, "users", map[string][]byte{"auth": []byte(sha1Line("alice", "wonderland"))})
	authURL := "http://" + authSvc.pods[0].host.Addr().String() + ":8080/__status/"
	basic := map[string]string{"auth-type": "basic", "auth-secret": "users"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	kinds := hostKinds(ns + ".example.com")
	for _, k := range kinds {
		for name, kv := range map[string]map[string]string{
			"any-allowed":   with(basic, "satisfy", "any", "whitelist-source-range", "127.0.0.1/32"),
			"any-refused":   with(basic, "satisfy", "any", "whitelist-source-range", "10.0.0.0/8"),
			"all-refused":   with(basic, "satisfy", "all", "whitelist-source-range", "10.0.0.0/8"),
			"url-allowed":   {"satisfy": "any", "whitelist-source-range": "127.0.0.1/32", "auth-url": authURL + "401?" + k.name},
			"url-refused":   {"satisfy": "any", "whitelist-source-range": "10.0.0.0/8", "auth-url": authURL + "200"},
			"url-basic-any": with(basic, "satisfy", "any", "auth-url", authURL+"401"),
		} {
			createIngress(t, newIngress(ns, k.name+"-"+name, k.annotations(kv), hostRule(k.host, prefixPath("/"+name, "a"))))
		}
	}
	creds := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wonderland"))}
	for _, k := range kinds {
		h := k.host
		expect(t, k.name+": any, an allowed address without credentials", "GET", h, "/any-allowed", nil, "", fromApp(a, 200))
		expect(t, k.name+": any, a refused address without credentials", "GET", h, "/any-refused", nil, "", status(401))
		expect(t, k.name+": any, a refused address with credentials", "GET", h, "/any-refused", creds, "", fromApp(a, 200))
		expect(t, k.name+": all, a refused address with credentials", "GET", h, "/all-refused", creds, "", status(403))
		expect(t, k.name+": any, auth-url not asked for an allowed address", "GET", h, "/url-allowed", nil, "", fromApp(a, 200))
		expect(t, k.name+": any, auth-url lets a refused address in", "GET", h, "/url-refused", nil, "", fromApp(a, 200))
		expect(t, k.name+": any, basic auth or auth-url", "GET", h, "/url-basic-any", creds, "", fromApp(a, 200))
		expect(t, k.name+": any, neither basic auth nor auth-url", "GET", h, "/url-basic-any", nil, "", status(401))
	}
	for _, r := range seen(t, authSvc.pods[0]) {
		if strings.Contains(r.RawQuery, "routed") || strings.Contains(r.RawQuery, "static") {
			t.Errorf("the auth service was asked for an allowed address: %s?%s", r.Path, r.RawQuery)
		}
	}
	checkKinds(t, kinds)
}
