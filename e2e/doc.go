// Package e2e is Portico's end-to-end suite: a real kube-apiserver and etcd,
// the real portico binary running the real nginx with the Lua balancer, and
// echo backends in network namespaces the suite creates. Tests apply objects
// through the API and assert on HTTP responses: status codes, which backend
// answered, and what the backend saw.
//
// It needs root (network namespaces) and runs with `make e2e`.
package e2e
