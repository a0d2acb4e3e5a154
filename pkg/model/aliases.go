package model

import (
	"strings"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Host aliases: server-alias gives a host more names, served by the same
// routes; from-to-www-redirect gives it its www. twin (or, for a www.
// host, the name without it), which redirects to it. A name that is an
// Ingress host of its own, or that an older Ingress claimed first, stays
// what it is, with a warning.

// claimAliases records the names set asks for host (a rule's host; rules
// without a host and wildcard hosts get none).
func (b *builder) claimAliases(obj diag.Object, host string, set annotations.Set) {
	if host == "" || strings.HasPrefix(host, "*.") {
		return
	}
	for _, a := range set.ServerAliases {
		b.aliasClaims = append(b.aliasClaims, aliasClaim{name: a, host: host, obj: obj,
			field: "metadata.annotations[" + annotations.Prefix + "server-alias]"})
	}
	if set.FromToWWW {
		twin, ok := strings.CutPrefix(host, "www.")
		if !ok {
			twin = "www." + host
		}
		if _, err := parseHost(twin); err == nil && strings.Contains(twin, ".") {
			b.aliasClaims = append(b.aliasClaims, aliasClaim{name: twin, host: host, www: true, obj: obj,
				field: "metadata.annotations[" + annotations.Prefix + "from-to-www-redirect]"})
		}
	}
}

// resolveAliases gives each claimed name to its host unless it is a host
// of its own or claimed before; the www. redirects become servers of
// Config.Servers (finishServers adds the rest and sorts them), with their
// host's certificate.
func (b *builder) resolveAliases() {
	taken := map[string]string{} // name → the host it answers for
	for _, c := range b.aliasClaims {
		owner, claimed := taken[c.name]
		switch {
		case owner == c.host || c.name == c.host:
			continue // the same name for the same host again, or the host
		case b.servers[c.name] != nil:
			if !c.www {
				b.diag(c.obj, diag.Warnf(c.field, "AliasConflict",
					"%s is the host of an Ingress of its own; it is not an alias of %s", c.name, c.host))
			}
			// from-to-www: the twin has its own Ingresses, as ingress-nginx
			// drops the redirect then.
			continue
		case claimed:
			b.diag(c.obj, diag.Warnf(c.field, "AliasConflict",
				"%s already answers for %s, claimed by an older Ingress; it is not an alias of %s", c.name, owner, c.host))
			continue
		}
		taken[c.name] = c.host
		srv := b.servers[c.host]
		if !c.www {
			srv.aliases = append(srv.aliases, c.name)
			continue
		}
		b.cfg.Servers = append(b.cfg.Servers, &Server{Host: c.name, TLS: srv.tls, RedirectTo: c.host})
	}
}
