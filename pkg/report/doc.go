// Package report writes the controller's findings back to the API server:
// Ingress status addresses and Events.
//
// Contract: it writes only what changed (a status already equal is not
// updated; a diagnostic already reported for an object is not reported
// again), and it never blocks the sync loop on a slow API server for longer
// than its request timeout. Warning Events are budgeted per namespace, so
// one namespace's flood never delays or drops another's. It knows
// client-go; its inputs are plain values.
package report
