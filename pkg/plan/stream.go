package plan

import (
	"net/netip"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/portico-ingress/portico/pkg/model"
)

// Stream is what nginx.conf's stream context prints: the TCP and UDP
// services, and the passthrough front on the HTTPS port. nginx OSS 1.22
// cannot change an upstream's servers at run time and Debian has no
// stream Lua, so a connection's peer is picked by the njs script
// (StreamScript) from a file of the service's endpoints, one per line,
// which pkg/apply writes (Plan.PeerFiles): an endpoint change writes the
// file and never reloads nginx.
type Stream struct {
	// ModulesDir holds ngx_stream_module.so and ngx_stream_js_module.so.
	ModulesDir string
	// Script is the njs module that picks peers; PeersDir holds the
	// peer files it reads.
	Script, PeersDir string
	// AccessLog logs every session with LogFormat.
	AccessLog bool
	LogFormat string
	// TrustedProxies may name the client in a PROXY protocol header
	// (set_real_ip_from): on the ports that decode it, $remote_addr
	// becomes the client's, and so does the header sent on.
	TrustedProxies []string
	// Timeout (proxy_timeout) and Responses (proxy_responses, UDP) of
	// the TCP and UDP services.
	Timeout   string
	Responses int
	Servers   []StreamServer
	// Passthrough is the front on the HTTPS port (--enable-ssl-passthrough);
	// nil without it.
	Passthrough *PassthroughFront
	// Snippets are the Ingresses' stream-snippet annotations, then the
	// ConfigMap's stream-snippet, printed last.
	Snippets []StreamSnippet
}

// StreamSnippet is raw configuration of the stream block (checked by the
// model), with the comment that says whose it is.
type StreamSnippet struct {
	Source string
	Text   string
}

// StreamServer is one TCP or UDP service's server block.
type StreamServer struct {
	// Name says what it serves, for the comment above it.
	Name string
	// Listen is the listen directive's arguments.
	Listen string
	// UDP ends each session after Stream.Responses answer datagrams.
	UDP bool
	// SendProxy sends the PROXY protocol to the backend.
	SendProxy bool
}

// PassthroughFront reads the TLS server name of each connection on the
// HTTPS port (ssl_preread) and hands it on with the PROXY protocol, so
// that the next hop knows the client: a passthrough host's to the
// passthrough server on Passthrough, which sends it to the host's backend
// untouched, every other one to the HTTPS server on Internal. The common
// path, TLS that Portico ends, takes one hop.
type PassthroughFront struct {
	// Listen are the arguments of its listen directives.
	Listen []string
	// Hosts are the passthrough hosts: server name to peer file.
	Hosts []PassthroughHost
	// Internal is the HTTPS server's unix socket, Passthrough the
	// passthrough server's ("unix:path").
	Internal, Passthrough string
}

// PassthroughHost maps a server name (an exact one, or a case-insensitive
// regular expression for a wildcard host) to the peer file of its backend.
type PassthroughHost struct {
	Name, Peers string
}

// Files under the run dir that the stream context uses.
const (
	// peersDir holds the peer files.
	peersDir = "stream"
	// httpsSocket is the HTTPS server's listener behind the passthrough
	// front, passthroughSocket the passthrough server's.
	httpsSocket       = "https.sock"
	passthroughSocket = "passthrough.sock"
	// streamScript is the njs module, under the Lua dir.
	streamScript = "portico/stream.js"
	// streamLogFormat is ingress-nginx's log-format-stream default.
	streamLogFormat = `[$remote_addr] [$time_local] $protocol $status $bytes_sent $bytes_received $session_time`
)

// HTTPSSocket is the path of the HTTPS server's listener behind the
// passthrough front, under runDir.
func HTTPSSocket(runDir string) string { return runDir + "/" + httpsSocket }

// Sockets are the unix sockets nginx.conf may listen on, under runDir.
func Sockets(runDir string) []string {
	return []string{HTTPSSocket(runDir), runDir + "/" + passthroughSocket}
}

// PeersDir is where the peer files of the stream context are, under
// runDir.
func PeersDir(runDir string) string { return runDir + "/" + peersDir }

// StreamPeers is the name of the peer file of the TCP or UDP service on
// port, as the njs script names it from the session's $protocol and
// $server_port.
func StreamPeers(proto corev1.Protocol, port int) string {
	return strings.ToLower(string(proto)) + "-" + strconv.Itoa(port)
}

// passthroughPeers is the peer file of a passthrough backend: its name,
// "ns/svc:port", with '_' for '/'.
func passthroughPeers(backend string) string {
	return "tls-" + strings.ReplaceAll(backend, "/", "_")
}

// peerLines is the content of a peer file: one address:port per line.
func peerLines(eps []model.Endpoint) []byte {
	var b strings.Builder
	for _, e := range eps {
		if a, err := netip.ParseAddr(e.Address); err == nil {
			b.WriteString(netip.AddrPortFrom(a, uint16(e.Port)).String())
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}

// streamOf plans the stream context of m; nil when there is nothing to
// serve there. With the passthrough front it also moves h's HTTPS
// listener behind the front (passthroughFront).
func streamOf(m *model.Config, h *HTTP, opts Options) *Stream {
	snippets := streamSnippetsOf(m)
	if len(m.Streams) == 0 && !opts.SSLPassthrough && len(snippets) == 0 {
		return nil
	}
	g := &m.Global
	st := &Stream{ModulesDir: opts.ModulesDir, Script: opts.LuaDir + "/" + streamScript, PeersDir: PeersDir(opts.RunDir),
		AccessLog: g.AccessLog, LogFormat: streamLogFormat, TrustedProxies: g.TrustedProxies,
		Timeout: g.Stream.Timeout, Responses: g.Stream.Responses}
	for _, s := range m.Streams {
		v := StreamServer{Name: s.Name() + " to " + s.Service.String() + ":" + s.ServicePort, Listen: strconv.Itoa(s.Port)}
		if s.Protocol == corev1.ProtocolUDP {
			v.Listen += " udp"
			v.UDP = true
		}
		if s.DecodeProxy {
			v.Listen += " proxy_protocol"
		}
		v.SendProxy = s.EncodeProxy
		st.Servers = append(st.Servers, v)
	}
	if opts.SSLPassthrough {
		st.Passthrough = passthroughFront(m, h, opts)
	}
	st.Snippets = snippets
	return st
}

// streamSnippetsOf are the stream snippets of m: each served Ingress's,
// oldest first, then the ConfigMap's, as ingress-nginx prints them.
func streamSnippetsOf(m *model.Config) []StreamSnippet {
	var out []StreamSnippet
	for _, s := range m.StreamSnippets {
		out = append(out, StreamSnippet{Source: "stream-snippet of Ingress " + s.Ingress.String() + " (allow-snippet-annotations)", Text: string(s.Snippet)})
	}
	if sn := m.Global.Snippets.Stream; sn != "" {
		out = append(out, StreamSnippet{Source: "stream-snippet (the ConfigMap's)", Text: sn})
	}
	return out
}

// passthroughFront plans the front on the HTTPS port.
func passthroughFront(m *model.Config, h *HTTP, opts Options) *PassthroughFront {
	f := &PassthroughFront{Listen: frontListens(m.Global, opts), Internal: "unix:" + HTTPSSocket(opts.RunDir),
		Passthrough: "unix:" + opts.RunDir + "/" + passthroughSocket}
	for _, s := range m.Servers {
		if s.Passthrough == "" {
			continue
		}
		peers := passthroughPeers(s.Passthrough)
		if rest, ok := strings.CutPrefix(s.Host, "*."); ok {
			f.Hosts = append(f.Hosts, PassthroughHost{Name: `~*^[^.]+\.` + strings.ReplaceAll(rest, ".", `\.`) + `$`, Peers: peers})
		} else {
			f.Hosts = append(f.Hosts, PassthroughHost{Name: s.Host, Peers: peers})
		}
	}
	return f
}

// passthroughFront moves h's HTTPS listener behind the passthrough front:
// a unix socket whose PROXY header names the client ($remote_addr, by
// realip) and the port it connected to ($portico_server_port). When the
// ConfigMap trusts X-Forwarded-For instead, HTTPS requests through the
// front keep "unix:" as their address (docs/layer4.md).
func (h *HTTP) passthroughFront() {
	h.ServerPort, h.ServerPortFromProxy = "$portico_server_port", true
	if h.RealIP == nil {
		h.RealIP = &model.RealIP{Header: "proxy_protocol"}
	}
	if h.RealIP.Header == "proxy_protocol" {
		r := *h.RealIP
		r.From = append(append([]string(nil), r.From...), "unix:")
		h.RealIP = &r
	}
}

// peerFilesOf are the peer files of m's stream services and passthrough
// backends, by name, for pkg/apply to write into PeersDir.
func peerFilesOf(m *model.Config) map[string][]byte {
	files := make(map[string][]byte, len(m.Streams))
	for _, s := range m.Streams {
		files[StreamPeers(s.Protocol, s.Port)] = peerLines(s.Endpoints)
	}
	var backends map[string]*model.Backend
	for _, s := range m.Servers {
		if s.Passthrough == "" {
			continue
		}
		if backends == nil {
			backends = make(map[string]*model.Backend, len(m.Backends))
			for _, be := range m.Backends {
				backends[be.Name] = be
			}
		}
		if be := backends[s.Passthrough]; be != nil {
			files[passthroughPeers(be.Name)] = peerLines(be.Endpoints)
		}
	}
	return files
}
