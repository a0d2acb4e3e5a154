// Package apply runs nginx and puts configuration into it.
//
// Contract: Apply takes rendered nginx.conf bytes with their checksum and
// what Lua holds (Dynamic: the plan's documents, which it treats as named
// items of raw JSON, and the files nginx reads per request). A config
// whose checksum equals the running one is never reloaded. A new config is
// written as a candidate, checked with nginx -t, renamed over nginx.conf
// atomically and loaded with SIGHUP; if any step fails, the running nginx
// keeps its last good config. The documents are pushed over the loopback
// status port (package statusport), without reloads; nginx takes each
// item it can and refuses one that fails its checks alone (Refused names
// it): a bad item never holds back the others. The package owns the nginx
// master process: it starts it, restarts it if it dies, and stops it
// gracefully, with the controller's environment less LD_PRELOAD objects
// that do not exist (environ.go). It knows no Kubernetes types.
//
// Files: every file it writes under the config dir (nginx.conf, the default
// certificate, auth files, the routed-hosts file) is recorded with its
// content (OwnedFiles); a change Portico did not make is drift: a
// Warning, counted, and Portico's version written back at once, and
// checked again before nginx restarts, so nginx never loads a hand edit. Files an operator mounts for nginx
// (DataFiles, by configured path) reach nginx.conf only as copies in the
// run dir, named by content: a new version applies with one reload; one
// nginx -t refuses leaves the last good copy in use. The routed-hosts file
// (Dynamic.RoutedHosts), which nginx does not read, is written atomically
// with each Apply that carries a new one, without nginx -t or a reload.
package apply
