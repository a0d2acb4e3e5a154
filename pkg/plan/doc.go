// Package plan decides how nginx and its Lua carry a model: which hosts
// are server blocks of nginx.conf and which the Lua router serves
// (servers.go), the router's locations, body limits and shared limit
// zones (router.go), where X-Request-ID is made, the wire format of the
// Lua configuration endpoints (lua.go, documented against
// rootfs/etc/nginx/lua/portico), the model in that format (wire.go) and
// the documents pushed to the endpoints (document.go).
//
// Contract: Make is a pure, deterministic function of the model and the
// previous plan; it never changes the model. The previous plan only keeps
// router locations nginx runs when dropping them would be the only change
// to nginx.conf, and presizes the documents. Every wire type has one
// definition here, used by pkg/apply to push, and by pkg/diagnose and the
// tools to read what nginx holds.
package plan
