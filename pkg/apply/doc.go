// Package apply runs nginx and puts configuration into it.
//
// Contract: Apply takes rendered nginx.conf bytes with their checksum and
// what Lua holds (Dynamic: backends, certificates, routes). A config whose
// checksum equals the running one is never reloaded. A new config is written
// as a candidate, checked with nginx -t, renamed over nginx.conf atomically
// and loaded with SIGHUP; if any step fails, the running nginx keeps its last
// good config. Backends, certificates and routes are pushed over the
// loopback status port, without reloads; nginx takes each item it can and
// refuses one that fails its checks alone (Refused names it): a bad item
// never holds back the others. The package owns the nginx master
// process: it starts it, restarts it if it dies, and stops it gracefully,
// with the controller's environment less LD_PRELOAD objects that do not
// exist (environ.go). It knows no Kubernetes types.
package apply
