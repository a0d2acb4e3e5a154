package model

// StreamOptions are the ConfigMap's settings of the TCP and UDP services
// (the proxy-stream-* keys), applied to every one of their stream
// servers; the TLS passthrough front keeps its own.
type StreamOptions struct {
	// Timeout is proxy_timeout, an nginx time: a session with nothing
	// read or written for that long is closed (proxy-stream-timeout).
	Timeout string `json:"timeout"`
	// Responses is proxy_responses of UDP services: the datagrams a
	// query is answered with before its session ends
	// (proxy-stream-responses).
	Responses int `json:"responses"`
}

// defaultStreamOptions are ingress-nginx's defaults.
func defaultStreamOptions() StreamOptions {
	return StreamOptions{Timeout: "600s", Responses: 1}
}
