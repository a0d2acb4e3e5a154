// Package watch keeps informer caches of the objects Portico reads and turns
// their changes into one coalescing work item.
//
// Contract: after Start returns, Snapshot lists every watched object from
// the caches (shared, read-only: callers must not modify them), the
// Ingresses only of namespaces that Options.NamespaceSelector selects. Any
// number of changes between two Next calls yield one Next, which also says
// what changed, and whether only EndpointSlices did; a change to a
// ConfigMap of the watched namespaces counts only once the caller said it
// reads it (SetReferencedConfigMaps), or before it said anything. WaitingReads, set on
// the API client's transport, makes the informers' lists and watches wait
// for an unreachable API server instead of backing off. The package knows
// client-go and nothing else of Portico's.
package watch
