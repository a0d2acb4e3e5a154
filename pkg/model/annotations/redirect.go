package annotations

import (
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/portico-ingress/portico/pkg/model/diag"
)

const (
	namePermanentRedirect     = "permanent-redirect"
	namePermanentRedirectCode = "permanent-redirect-code"
	nameTemporalRedirect      = "temporal-redirect"
	nameTemporalRedirectCode  = "temporal-redirect-code"
)

// Redirect answers every request of a location with a redirect instead of
// proxying it.
type Redirect struct {
	Code int
	URL  URL
}

// URL is an absolute http(s) URL, or (Scheme and Host "") a path with an
// optional query, split into parts that each passed a grammar; String
// prints it.
type URL struct {
	Scheme string  // "http", "https", or "" for a path
	Host   string  // DNS name or IP address (IPv6 in brackets)
	Port   int     // 0: the scheme's default
	Path   URIPath // "/" when the URL has none
	// Query is "" or a query string of unreserved characters, '=' and '&'.
	Query string
}

func (u URL) String() string {
	s := ""
	if !u.Relative() {
		s = u.Scheme + "://" + u.Host
	}
	if u.Port != 0 {
		s += ":" + strconv.Itoa(u.Port)
	}
	s += string(u.Path)
	if u.Query != "" {
		s += "?" + u.Query
	}
	return s
}

// Relative reports whether u is a path, which nginx makes absolute with
// the request's scheme and Host (unless relative-redirects).
func (u URL) Relative() bool { return u.Scheme == "" }

// HostPort is Host with Port, ":port" only when set.
func (u URL) HostPort() string {
	if u.Port == 0 {
		return u.Host
	}
	return u.Host + ":" + strconv.Itoa(u.Port)
}

// IsIP reports whether Host is an IP address (no DNS lookup needed).
func (u URL) IsIP() bool { return strings.HasPrefix(u.Host, "[") || net.ParseIP(u.Host) != nil }

var (
	dnsName    = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)
	queryChars = regexp.MustCompile(`^[A-Za-z0-9\-._~=&]*$`)
)

// parseURL parses an absolute http or https URL without user info or
// fragment; everything that passes prints without quoting in nginx.conf.
func parseURL(v string) (URL, bool) {
	if len(v) > maxURIPath || strings.ContainsAny(v, "\"'\\$;{}# \t\r\n") {
		return URL{}, false
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Fragment != "" || u.Opaque != "" || u.RawPath != "" {
		return URL{}, false
	}
	out := URL{Scheme: u.Scheme, Path: "/", Query: u.RawQuery}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		if ip.To4() == nil {
			host = "[" + ip.String() + "]"
		} else {
			host = ip.String()
		}
	} else if len(host) > 253 || !dnsName.MatchString(host) {
		return URL{}, false
	}
	out.Host = strings.ToLower(host)
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return URL{}, false
		}
		out.Port = n
	}
	if u.Path != "" {
		p, ok := parseURIPath(u.Path)
		if !ok {
			return URL{}, false
		}
		out.Path = p
	}
	if !queryChars.MatchString(out.Query) {
		return URL{}, false
	}
	return out, true
}

const wantURL = "want an absolute http or https URL such as https://example.com/path (host, optional port, path of letters, digits and -._~/!&()*+,=:@, query of letters, digits and -._~=&)"

// parsePathURL parses a path with an optional query, each of the grammar
// of parseURL's.
func parsePathURL(v string) (URL, bool) {
	path, query, _ := strings.Cut(v, "?")
	p, ok := parseURIPath(path)
	if !ok || !queryChars.MatchString(query) {
		return URL{}, false
	}
	return URL{Path: p, Query: query}, true
}

// parseRedirect parses permanent-redirect (+ permanent-redirect-code, 301
// by default) and temporal-redirect (+ temporal-redirect-code, 302 by
// default); temporal-redirect wins when both are set, as in ingress-nginx.
// permanent-redirect may also be a path ("/new"), as ingress-nginx takes
// it: nginx makes it absolute (relative-redirects, use-port-in-redirects).
// A code is read as ingress-nginx reads it: no number refuses the
// Ingress, a number outside 300-308 (300-307 for temporal-redirect-code)
// gives the default with a Warning; of the numbers within, those nginx's
// return does not redirect with (300, 304, 305, 306: ingress-nginx's
// answer has no Location) are refused.
func parseRedirect(a Annotations) (*Redirect, []diag.Diagnostic) {
	var ds []diag.Diagnostic
	pick := func(name, codeName string, def, highest int) *Redirect {
		v, ok := a.lookup(name)
		if !ok {
			return nil
		}
		u, ok := parseURL(v)
		want := wantURL
		if name == namePermanentRedirect {
			if strings.HasPrefix(v, "/") {
				u, ok = parsePathURL(v)
			}
			want += ", or a path such as /new?from=old"
		}
		if !ok {
			ds = append(ds, invalid(name, v, want)...)
			return nil
		}
		code := def
		if c, ok := a.lookup(codeName); ok {
			n, err := strconv.Atoi(c)
			switch {
			case err != nil:
				ds = append(ds, invalid(codeName, c, "want a redirect status: "+codeList(highest))...)
				return nil
			case n < 300 || n > highest:
				ds = append(ds, diag.Warnf(field(codeName), "AnnotationValueIgnored",
					"%d is not from 300 to %d; %d is used instead, as in ingress-nginx", n, highest, def))
			case !redirectCodes[n]:
				ds = append(ds, invalid(codeName, c, "want a redirect status: "+codeList(highest)+
					" (nginx answers other codes without a Location)")...)
				return nil
			default:
				code = n
			}
		}
		return &Redirect{Code: code, URL: u}
	}
	perm := pick(namePermanentRedirect, namePermanentRedirectCode, 301, 308)
	temp := pick(nameTemporalRedirect, nameTemporalRedirectCode, 302, 307)
	if temp != nil {
		return temp, ds
	}
	return perm, ds
}

// redirectCodes are the codes nginx's return redirects with.
var redirectCodes = map[int]bool{301: true, 302: true, 303: true, 307: true, 308: true}

// codeList lists the redirect codes up to highest.
func codeList(highest int) string {
	var s []string
	for c := 300; c <= highest; c++ {
		if redirectCodes[c] {
			s = append(s, strconv.Itoa(c))
		}
	}
	return strings.Join(s, ", ")
}
