// Package diag defines the diagnostics the model reports about user input.
//
// A Diagnostic names the object and the field it is about, a machine-readable
// reason (used as the Kubernetes Event reason) and a message for people. The
// model never logs or emits events itself; the controller turns diagnostics
// into Warning Events and log lines.
package diag
