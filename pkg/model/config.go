package model

import (
	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Config is the typed configuration Build produces.
type Config struct {
	Global  Global    `json:"global"`
	Servers []*Server `json:"servers"`
	// Backends are sorted by Name; their endpoints go to the Lua balancer.
	Backends []*Backend `json:"backends"`
	// Ingresses are the Ingresses this controller owns, sorted, whether or
	// not they were accepted; their status is ours to write.
	Ingresses []IngressRef `json:"ingresses"`
	// Diagnostics are sorted; see package diag.
	Diagnostics []diag.Diagnostic `json:"diagnostics,omitempty"`
}

// Global holds settings from the controller's ConfigMap.
type Global struct {
	// LoadBalance is the default algorithm of backends.
	LoadBalance annotations.LoadBalance `json:"loadBalance"`
}

// IngressRef names an Ingress.
type IngressRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (r IngressRef) String() string { return r.Namespace + "/" + r.Name }

// Server is one nginx server block.
type Server struct {
	// Host is the Ingress host, "*.example.com" for a wildcard, or "" for
	// the catch-all server that also serves rules without a host.
	Host string `json:"host"`
	// ServerName is the nginx server_name argument: the host itself, a
	// regular expression for a wildcard host (exactly one label), or "_".
	ServerName string `json:"serverName"`
	// Default marks the catch-all server (listen ... default_server).
	Default bool `json:"default,omitempty"`
	// Locations are sorted by Path, then Modifier.
	Locations []*Location `json:"locations"`
}

// Modifier is an nginx location modifier.
type Modifier string

const (
	// ModExact is "location = /p": the URI equals the path.
	ModExact Modifier = "="
	// ModPrefix is "location /p": the URI starts with the path.
	ModPrefix Modifier = ""
)

// Location is one nginx location block.
type Location struct {
	Modifier Modifier `json:"modifier"`
	// Path is validated: it starts with '/' and holds no character that
	// needs escaping in nginx.conf.
	Path string `json:"path"`
	// Backend names the entry of Config.Backends that serves the
	// location; empty means the location answers 404.
	Backend string `json:"backend,omitempty"`
	// Ingress is where the route came from; zero for a synthesized one.
	Ingress IngressRef `json:"ingress"`
	// RewriteTarget, when set, replaces the URI before proxying.
	RewriteTarget annotations.URIPath `json:"rewriteTarget,omitempty"`
}

// Backend is a Service port as the Lua balancer sees it.
type Backend struct {
	// Name is "namespace/service:port", port as the Ingress wrote it.
	Name        string                  `json:"name"`
	Service     ServiceRef              `json:"service"`
	Port        string                  `json:"port"`
	LoadBalance annotations.LoadBalance `json:"loadBalance"`
	// Endpoints are the addresses that receive traffic, sorted.
	Endpoints []Endpoint `json:"endpoints"`
	// NoEndpoints explains an empty Endpoints, for the 503 body and logs.
	NoEndpoints string `json:"noEndpoints,omitempty"`
}

// Endpoint is one address and port of a Backend.
type Endpoint struct {
	Address string `json:"address"`
	Port    int32  `json:"port"`
}
