package model

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
	"github.com/portico-ingress/portico/pkg/nginxconf"
)

// StreamSnippet is an Ingress's stream-snippet: raw configuration of
// nginx's stream block, which the operator allowed
// (allow-snippet-annotations, annotations-risk-level Critical) and nginx's
// tokenizer keeps inside that block. A server of it may not listen on a
// port Portico or a tcp-services/udp-services entry holds; nginx -t
// judges the rest (a port another snippet listens on): the controller
// then holds back the Ingress it came from, which Ingress names.
type StreamSnippet struct {
	Ingress IngressRef          `json:"ingress"`
	Snippet annotations.Snippet `json:"snippet"`
}

// streamListen is a port of the stream block, TCP or UDP.
type streamListen struct {
	udp  bool
	port int
}

func (l streamListen) String() string {
	if l.udp {
		return "UDP port " + strconv.Itoa(l.port)
	}
	return "TCP port " + strconv.Itoa(l.port)
}

// streamPortsHeld are the ports nginx listens on before any stream
// snippet, and whose they are: the controller's own (--http-port and the
// others) and the keys of the tcp-services and udp-services ConfigMaps.
// A snippet's server on one of them would make nginx refuse the config
// when it binds the port, at the reload, where nginx -t does not see it.
func streamPortsHeld(in Input) map[streamListen]string {
	held := map[streamListen]string{}
	for p, what := range in.Options.ReservedPorts {
		held[streamListen{port: p}] = "Portico's " + what
	}
	for _, c := range []struct {
		cm  *corev1.ConfigMap
		udp bool
	}{{in.TCPServices, false}, {in.UDPServices, true}} {
		if c.cm == nil {
			continue
		}
		for k := range c.cm.Data {
			if p, err := streamPort(k); err == nil {
				held[streamListen{udp: c.udp, port: p}] = fmt.Sprintf("the key %q of ConfigMap %s/%s", k, c.cm.Namespace, c.cm.Name)
			}
		}
	}
	return held
}

// snippetListens are the ports the servers of a stream snippet listen
// on (unix sockets aside).
func snippetListens(sn annotations.Snippet) []streamListen {
	ds, err := nginxconf.ParseSnippet(string(sn))
	if err != nil {
		return nil
	}
	var out []streamListen
	for _, d := range ds {
		if d.Name != "server" {
			continue
		}
		for _, l := range d.Block {
			if l.Name != "listen" || len(l.Args) == 0 || strings.HasPrefix(l.Args[0], "unix:") {
				continue
			}
			addr := l.Args[0]
			if i := strings.LastIndexByte(addr, ':'); i >= 0 {
				addr = addr[i+1:]
			}
			if p, err := strconv.Atoi(addr); err == nil && p > 0 && p < 65536 {
				out = append(out, streamListen{udp: slices.Contains(l.Args[1:], "udp"), port: p})
			}
		}
	}
	return out
}

// checkStreamSnippet refuses a stream snippet whose server listens on a
// port held before any snippet.
func (b *builder) checkStreamSnippet(sn annotations.Snippet) []diag.Diagnostic {
	for _, l := range snippetListens(sn) {
		if whose := b.streamPortsHeld[l]; whose != "" {
			return []diag.Diagnostic{diag.Errorf("metadata.annotations["+annotations.Prefix+"stream-snippet]", "StreamPortTaken",
				"a server of the stream snippet listens on %s, which is %s", l, whose)}
		}
	}
	return nil
}

// addStreamSnippet keeps the stream-snippet of a served Ingress.
func (b *builder) addStreamSnippet(ref IngressRef, sn annotations.Snippet) {
	if sn != "" {
		b.cfg.StreamSnippets = append(b.cfg.StreamSnippets, StreamSnippet{Ingress: ref, Snippet: sn})
	}
}
