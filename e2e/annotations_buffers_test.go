package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

// proxy-busy-buffers-size: nginx loads it with the location's buffers
// (here proxy-buffer-size 16k, so a 12k response header passes, and 4
// buffers of 16k), in the host's server block and in the routed host's
// router location alike, and a large answer arrives whole; a size nginx
// would refuse (all buffers but one, or more) refuses the Ingress with an
// Event, before nginx sees it.
func TestAnnotationsBusyBuffers(t *testing.T) {
	allowSnippets(t)
	ns := namespace(t, "busy")
	a := newApp(t, ns, "a", 1, "")
	kinds := hostKinds(ns + ".example.com")
	for _, k := range kinds {
		createIngress(t, newIngress(ns, k.name, k.annotations(map[string]string{"proxy-buffer-size": "16k",
			"proxy-busy-buffers-size": "24k"}), hostRule(k.host, prefixPath("/", "a"))))
	}
	createIngress(t, newIngress(ns, "refused", map[string]string{ann + "proxy-buffer-size": "16k", ann + "proxy-busy-buffers-size": "48k"},
		hostRule("refused."+ns+".example.com", prefixPath("/", "a"))))
	for _, k := range kinds {
		expect(t, k.name+": a 12k header and the echo pass", "GET", k.host, "/__header/12000", nil, "", func(r reply) error {
			if err := fromApp(a, 200)(r); err != nil {
				return err
			}
			if n := len(r.header.Get(echo.PadHeader)); n != 12000 {
				return fmt.Errorf("pad header of %d bytes", n)
			}
			return nil
		})
	}
	checkKinds(t, kinds)
	// One location of the static host's server block, one router
	// location of the routed host.
	if n := strings.Count(runningConf(t), "proxy_busy_buffers_size 24k;"); n != 2 {
		t.Errorf("nginx.conf has proxy_busy_buffers_size 24k %d times, want 2", n)
	}
	eventWith(t, ns, "refused", "InvalidAnnotation", "proxy-busy-buffers-size")
	if r, err := send("GET", "refused."+ns+".example.com", "/", nil, ""); err != nil || r.echo != nil {
		t.Errorf("the refused Ingress is served: %v %+v", err, r.echo)
	}
}
