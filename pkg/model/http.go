package model

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// ingressHTTP is what the HTTP annotations of one Ingress resolve to once
// Secrets and Services are looked up.
type ingressHTTP struct {
	set   annotations.Set
	basic *BasicAuth
	// auth is the Ingress's auth-url, resolved (externalAuth); global is
	// the ConfigMap's, with its global auth and no-auth-locations.
	auth   *annotations.ExternalAuth
	global *Global
	// errBackend serves CustomHTTPErrors; "" means errors are not
	// intercepted.
	errBackend string
	errCodes   []int
	// defaultBackend is the default-backend annotation's Backend; "" when
	// unset.
	defaultBackend string
	// clientTLS is auth-tls, for the Ingress's hosts.
	clientTLS *ClientTLS
	// responseHeaders are custom-headers'; fastCGI is set for FCGI.
	responseHeaders []KeyValue
	fastCGI         *FastCGI
}

// htpasswd grammars. Hash formats are those nginx's auth_basic verifies:
// its own $apr1$, {SHA} and {SSHA}, and crypt(3) schemes of Debian's
// libxcrypt: $1$ (MD5), $5$, $6$ (SHA-2), $2a$/$2b$/$2y$ (bcrypt), $y$
// (yescrypt). {PLAIN} and DES crypt are refused.
var (
	htUser = regexp.MustCompile(`^[A-Za-z0-9._@+-]{1,128}$`)
	htHash = regexp.MustCompile(`^(\$apr1\$|\$1\$|\$5\$|\$6\$|\$2[aby]\$|\$y\$|\{SHA\}|\{SSHA\})[A-Za-z0-9./$=+,]{1,512}$`)
)

// parseHtpasswd validates an htpasswd file and returns it normalized.
func parseHtpasswd(content string) (string, error) {
	var lines []string
	for i, l := range strings.Split(content, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		u, h, ok := strings.Cut(l, ":")
		if !ok || !htUser.MatchString(u) || !htHash.MatchString(h) {
			return "", fmt.Errorf("line %d is not user:hash with a user of letters, digits and ._@+- and an $apr1$, $1$, $5$, $6$, $2y$, $y$, {SHA} or {SSHA} hash", i+1)
		}
		lines = append(lines, u+":"+h)
	}
	if len(lines) == 0 {
		return "", fmt.Errorf("no user")
	}
	return strings.Join(lines, "\n") + "\n", nil
}

// httpIngress resolves the HTTP annotations of ing. An Error diagnostic
// means the Ingress must not be served.
func (b *builder) httpIngress(obj diag.Object, ing *networkingv1.Ingress, set annotations.Set, lb annotations.LoadBalance) (ingressHTTP, []diag.Diagnostic) {
	h := ingressHTTP{set: set, global: &b.cfg.Global}
	h.set.RedirectForm.Relative = set.RedirectForm.Relative || b.cfg.Global.RelativeRedirects
	var ds []diag.Diagnostic
	if ba := set.BasicAuth; ba != nil {
		f := "metadata.annotations[" + annotations.Prefix + "auth-secret]"
		ref, err := b.secretRef(ing.Namespace, ba.Namespace, ba.Secret)
		s := b.secrets[ref]
		var content string
		switch {
		case err != nil:
		case s == nil:
			err = fmt.Errorf("secret %s does not exist", ref)
		case ba.Map:
			users := make([]string, 0, len(s.Data))
			for u := range s.Data {
				users = append(users, u)
			}
			sort.Strings(users)
			var sb strings.Builder
			for _, u := range users {
				sb.WriteString(u + ":" + strings.TrimSpace(string(s.Data[u])) + "\n")
			}
			content, err = parseHtpasswd(sb.String())
		default:
			raw, ok := s.Data["auth"]
			if !ok {
				err = fmt.Errorf("secret %s has no key auth", ref)
			} else {
				content, err = parseHtpasswd(string(raw))
			}
		}
		if err != nil {
			ds = append(ds, diag.Errorf(f, "InvalidAuthSecret", "%v; the Ingress is refused", err))
		} else {
			name := ing.Namespace + "_" + ba.Secret
			if b.authFiles == nil {
				b.authFiles = map[string]*AuthFile{}
			}
			b.authFiles[name] = &AuthFile{Name: name, Content: content}
			h.basic = &BasicAuth{Realm: ba.Realm, File: name}
		}
	}
	if p := set.Proxy.SSL; p != nil {
		var d []diag.Diagnostic
		h.set.Proxy.SSL, d = b.proxySSL(ing, p)
		ds = append(ds, d...)
	}
	if c := set.ClientTLS; c != nil {
		var d []diag.Diagnostic
		h.clientTLS, d = b.clientTLS(ing, c)
		ds = append(ds, d...)
	}
	var d []diag.Diagnostic
	h.auth, d = b.externalAuth(ing, set.ExternalAuth)
	ds = append(ds, d...)
	if ref := set.CustomHeaders; !ref.IsZero() {
		h.responseHeaders, d = b.responseHeaders(ing, ref)
		ds = append(ds, d...)
	}
	if set.Proxy.Protocol == annotations.ProtoFCGI {
		h.fastCGI = &FastCGI{Index: set.FastCGI.Index}
		if ref := set.FastCGI.Params; !ref.IsZero() {
			h.fastCGI.Params, d = b.fastCGIParams(ing, ref)
			ds = append(ds, d...)
		}
	} else if f := set.FastCGI; !f.IsZero() {
		name := "fastcgi-index"
		if f.Index == "" {
			name = "fastcgi-params-configmap"
		}
		ds = append(ds, diag.Warnf("metadata.annotations["+annotations.Prefix+name+"]", "IneffectiveAnnotation",
			"fastcgi-index and fastcgi-params-configmap need backend-protocol: FCGI; they have no effect"))
	}
	h.errCodes = set.CustomHTTPErrors
	if h.errCodes == nil {
		h.errCodes = b.cfg.Global.CustomHTTPErrors
	}
	if set.DefaultBackend != "" {
		ref := ServiceRef{ing.Namespace, set.DefaultBackend}
		port := "-"
		if svc := b.backends.services[ref]; svc != nil && len(svc.Spec.Ports) > 0 {
			port = strconv.Itoa(int(svc.Spec.Ports[0].Port))
		}
		be := b.backends.get(ref, port, lb)
		if why := b.backends.problem(be.Name); why != "" {
			ds = append(ds, diag.Warnf("metadata.annotations["+annotations.Prefix+"default-backend]", "BackendNotFound",
				"%s; requests to a Service without endpoints, and intercepted errors, get 503", why))
		}
		h.defaultBackend = be.Name
	}
	switch {
	case len(h.errCodes) == 0:
	case h.defaultBackend != "":
		h.errBackend = h.defaultBackend
	case b.optFallback != "":
		h.errBackend = b.optFallback
	case set.CustomHTTPErrors != nil:
		ds = append(ds, diag.Warnf("metadata.annotations["+annotations.Prefix+"custom-http-errors]", "NoDefaultBackend",
			"neither the default-backend annotation nor --default-backend-service is set; errors are not intercepted"))
	}
	return h, ds
}

// hostVarRules refuses $host in auth-url or auth-signin on an Ingress
// with a rule that has no host or a wildcard host: there $host is what
// the client sends, so the client would pick the auth service.
func hostVarRules(ing *networkingv1.Ingress, ea *annotations.ExternalAuth) []diag.Diagnostic {
	name := "auth-url"
	if !ea.URLHostFromRule {
		name = "auth-signin"
	}
	for i, r := range ing.Spec.Rules {
		if r.HTTP == nil || (r.Host != "" && !strings.HasPrefix(r.Host, "*")) {
			continue
		}
		what := "a wildcard host"
		if r.Host == "" {
			what = "no host"
		}
		return []diag.Diagnostic{diag.Errorf("metadata.annotations["+annotations.Prefix+name+"]", "InvalidAnnotation",
			"$host stands for the rule's host, and spec.rules[%d] has %s: there it would be whatever the client sends; name the auth service's host instead", i, what)}
	}
	return nil
}

// locationHTTP fills the HTTP settings of a location from its Ingress.
func (h *ingressHTTP) locationHTTP(loc *Location, p networkingv1.HTTPIngressPath, host string) {
	s := h.set
	loc.Redirect = s.Redirect
	loc.Proxy = s.Proxy
	loc.CORS = s.CORS
	loc.Snippet = s.ConfigurationSnippet
	loc.Redirects, loc.Satisfy, loc.Mirror = s.RedirectForm, s.Satisfy, s.Mirror
	loc.ResponseHeaders, loc.FastCGI = h.responseHeaders, h.fastCGI
	loc.ModSecurity = s.ModSecurity
	loc.Tracing = s.Tracing
	if s.XForwardedPrefix != "" {
		loc.Headers = append(loc.Headers, Header{Name: "X-Forwarded-Prefix", Value: string(s.XForwardedPrefix)})
	}
	path, _ := IngressPathOf(p)
	h.locationAuth(loc, path, host)
	port := p.Backend.Service.Port.Name
	if port == "" {
		port = strconv.Itoa(int(p.Backend.Service.Port.Number))
	}
	if h.errBackend != "" {
		loc.Errors = &ErrorPage{Codes: h.errCodes, ErrorBackend: ErrorBackend{Backend: h.errBackend, Service: p.Backend.Service.Name, Port: port, Ingress: loc.Ingress},
			NoIntercept: s.NoInterceptErrors}
	}
	if h.defaultBackend != "" {
		loc.DefaultBackend = &ErrorBackend{Backend: h.defaultBackend, Service: p.Backend.Service.Name, Port: port, Ingress: loc.Ingress}
	}
}

// sortLocations orders the locations of a plain host by path, then
// modifier.
func sortLocations(locs []*Location) {
	slices.SortFunc(locs, func(x, y *Location) int {
		return strings.Compare(x.Path+"\x00"+string(x.Modifier), y.Path+"\x00"+string(y.Modifier))
	})
}
