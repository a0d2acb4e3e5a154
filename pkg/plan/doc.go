// Package plan decides how nginx and its Lua carry a model: the wire
// format of the Lua configuration endpoints (lua.go, documented against
// rootfs/etc/nginx/lua/portico) and the documents pushed to them
// (document.go).
//
// Contract: Make is a pure, deterministic function of the model and the
// previous plan; it never changes the model. Every wire type has one
// definition here, used by pkg/apply to push, and by pkg/diagnose and the
// tools to read what nginx holds.
package plan
