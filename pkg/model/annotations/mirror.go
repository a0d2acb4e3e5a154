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
	nameMirrorTarget      = "mirror-target"
	nameMirrorHost        = "mirror-host"
	nameMirrorRequestBody = "mirror-request-body"
)

// Mirror sends a copy of each request of the Ingress's locations to
// another server (nginx's mirror); its answers are dropped.
type Mirror struct {
	// Target is the URL the copy goes to: http or https, a host name or
	// address, an optional port, then a path of URIPath's characters and
	// $request_uri, $is_args, $args and $query_string (no quote, space or other '$').
	Target string `json:"target"`
	// Host is the copy's Host header: mirror-host, else the target's host.
	Host string `json:"host"`
	// NoBody leaves the request body out of the copy
	// (mirror-request-body: off).
	NoBody bool `json:"noBody,omitempty"`
}

// The variables a mirror-target may name are the parts of the request's
// URI, as ingress-nginx's documented https://test.env.com$request_uri
// uses them. A mirror copy is a subrequest, whose own $uri is an internal
// location's name: that one is refused.
//
// mirrorRest is what may follow the host and port: \b refuses longer
// names such as $request_uri_x.
var mirrorRest = regexp.MustCompile(`^(?:[A-Za-z0-9\-._~/!&()*+,=:@]|\$(?:request_uri|is_args|args|query_string)\b)*$`)

// HasVariables reports whether the target names a variable.
func (m Mirror) HasVariables() bool { return strings.Contains(m.Target, "$") }

// HasPath reports whether the target has a path or a variable after the
// host and port.
func (m Mirror) HasPath() bool {
	rest := strings.SplitN(m.Target, "/", 4) // scheme:, "", host[:port], path
	return len(rest) == 4 || strings.Contains(m.Target, "$")
}

const wantMirrorTarget = "want an http or https URL such as https://mirror.example.com$request_uri: a host, optional port, a path of letters, digits and -._~/!&()*+,=:@ and the variables $request_uri, $is_args, $args and $query_string"

func parseMirror(a Annotations) (*Mirror, []diag.Diagnostic) {
	v, ok := a.lookup(nameMirrorTarget)
	var ds []diag.Diagnostic
	m := &Mirror{}
	if ok {
		var host string
		m.Target, host, ok = parseMirrorTarget(v)
		if !ok {
			ds = append(ds, invalid(nameMirrorTarget, v, wantMirrorTarget)...)
		}
		m.Host = host
	}
	if h, set := a.lookup(nameMirrorHost); set {
		hostname, port, hasPort := strings.Cut(h, ":")
		n, err := strconv.Atoi(port)
		if len(hostname) <= 253 && (dnsName.MatchString(hostname) || net.ParseIP(hostname).To4() != nil) &&
			(!hasPort || err == nil && n > 0 && n < 65536 && port == strconv.Itoa(n)) {
			m.Host = strings.ToLower(h)
		} else {
			ds = append(ds, invalid(nameMirrorHost, h, "want a host name such as mirror.example.com, optionally with :port")...)
		}
	}
	if b, set := a.lookup(nameMirrorRequestBody); set {
		switch b {
		case "on":
		case "off":
			m.NoBody = true
		default:
			ds = append(ds, invalid(nameMirrorRequestBody, b, "want on or off")...)
		}
	}
	if !ok || diag.HasError(ds) {
		return nil, ds
	}
	return m, ds
}

// parseMirrorTarget checks a mirror-target and returns it with its host
// (lower case, without the port), the copy's default Host.
func parseMirrorTarget(v string) (target, host string, ok bool) {
	if len(v) > maxURIPath {
		return "", "", false
	}
	scheme, rest, cut := strings.Cut(v, "://")
	if !cut || scheme != "http" && scheme != "https" {
		return "", "", false
	}
	end := strings.IndexAny(rest, "/$")
	if end < 0 {
		end = len(rest)
	}
	hostPort, path := rest[:end], rest[end:]
	if !mirrorRest.MatchString(path) {
		return "", "", false
	}
	u, err := url.Parse(scheme + "://" + hostPort)
	if err != nil || u.User != nil || u.Host != hostPort {
		return "", "", false
	}
	host = u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		if ip.To4() == nil && !strings.HasPrefix(hostPort, "[") {
			return "", "", false
		}
	} else if len(host) > 253 || !dnsName.MatchString(host) {
		return "", "", false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", "", false
		}
	}
	return scheme + "://" + strings.ToLower(hostPort) + path, strings.ToLower(host), true
}
