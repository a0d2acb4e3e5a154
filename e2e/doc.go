// Package e2e is Portico's end-to-end suite: a real kube-apiserver and etcd,
// the real portico binary running the real nginx with the Lua balancer, and
// echo backends in network namespaces the suite creates. Tests apply objects
// through the API and assert on HTTP responses: status codes, which backend
// answered, and what the backend saw.
//
// The whole suite also fails when an annotation Portico supports was set
// on no Ingress of any test: the API server's audit log records the
// annotations of every Ingress written.
//
// It needs root (network namespaces) and runs with `make e2e`.
package e2e
