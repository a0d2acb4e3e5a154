package plan

import (
	"strconv"
	"strings"

	"github.com/portico-ingress/portico/pkg/model"
)

// listens are the arguments of the traffic listen directives of a server
// block (listen) and of the catch-all server (def), as ingress-nginx
// prints them: the HTTP port, then the HTTPS port, on each IPv4 address
// of bind-address (all when it names none), then on each IPv6 one ([::]
// when it names none) unless IPv6 is off (disable-ipv6, or a host without
// IPv6). The HTTPS port speaks HTTP/2 too with use-http2 (nginx 1.22
// takes it as a listen parameter, which applies to every server block of
// the address). Only the catch-all server's carry default_server, the
// backlog and reuseport: options an address takes once. Behind the TLS
// passthrough front (opts.SSLPassthrough), which takes the HTTPS port
// (frontListens), the HTTPS listener is the unix socket the front hands
// its connections to, with the PROXY protocol naming the client.
func listens(g model.Global, opts Options) (listen, def []string) {
	addrs := listenAddrs(g, opts)
	https := " ssl"
	if g.Client.HTTP2 {
		https += " http2"
	}
	common := proxyProtocol(g)
	once := " default_server"
	if g.Listen.ReusePort {
		once += " reuseport"
	}
	once += " backlog=4096"
	ports := []struct {
		n    int
		opts string
	}{{opts.HTTPPort, ""}, {opts.HTTPSPort, https}}
	if opts.SSLPassthrough {
		ports = ports[:1]
	}
	for _, port := range ports {
		for _, a := range addrs {
			l := a + strconv.Itoa(port.n) + port.opts + common
			listen = append(listen, l)
			def = append(def, l+once)
		}
	}
	if opts.SSLPassthrough {
		l := "unix:" + HTTPSSocket(opts.RunDir) + https + " proxy_protocol"
		listen = append(listen, l)
		def = append(def, l+" default_server backlog=4096")
	}
	return listen, def
}

// frontListens are the arguments of the listen directives of the TLS
// passthrough front: the HTTPS port on the addresses of listens, with the
// PROXY protocol when the ConfigMap asks for it.
func frontListens(g model.Global, opts Options) []string {
	var out []string
	for _, a := range listenAddrs(g, opts) {
		out = append(out, a+strconv.Itoa(opts.HTTPSPort)+proxyProtocol(g))
	}
	return out
}

// proxyProtocol is the listen parameter of the traffic ports with
// use-proxy-protocol.
func proxyProtocol(g model.Global) string {
	if g.UseProxyProtocol {
		return " proxy_protocol"
	}
	return ""
}

// listenAddrs are the address prefixes of the traffic listen directives
// ("" for all IPv4 addresses, "[::]:" for all IPv6 ones).
func listenAddrs(g model.Global, opts Options) []string {
	v4 := []string{""}
	if len(g.Listen.BindIPv4) > 0 {
		v4 = nil
		for _, a := range g.Listen.BindIPv4 {
			v4 = append(v4, a+":")
		}
	}
	addrs := v4
	if opts.IPv6 && !g.Listen.DisableIPv6 {
		v6 := []string{"[::]:"}
		if len(g.Listen.BindIPv6) > 0 {
			v6 = nil
			for _, a := range g.Listen.BindIPv6 {
				v6 = append(v6, "["+a+"]:")
			}
		}
		addrs = append(addrs, v6...)
	}
	return addrs
}

// resolversOf are the nameservers nginx's resolver uses: all of them, or
// the IPv4 ones when it asks for IPv4 addresses only (ipv6Off), as
// ingress-nginx filters them.
func resolversOf(all []string, ipv6Off bool) ([]string, bool) {
	if !ipv6Off {
		return all, false
	}
	var v4 []string
	for _, r := range all {
		if !strings.HasPrefix(r, "[") {
			v4 = append(v4, r)
		}
	}
	return v4, true
}
