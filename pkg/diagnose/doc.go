// Package diagnose explains, hop by hop, why a request to an Ingress host
// and path succeeds or fails: IngressClass, Ingress rule, Service and port,
// EndpointSlices and the Pods behind not-ready endpoints, TLS certificate,
// and what the running nginx holds.
//
// Contract: Diagnose is a pure function from a Snapshot (Kubernetes objects
// plus what the controller reported over HTTP) to a Report. It reads no
// clock (Snapshot.Now), does no I/O and routes with model.Build,
// Config.Match and plan.Make, the controller's own code, so its answer is
// the controller's; it compares what nginx holds in the plan's wire types
// with the same matcher (plan.Routes.Match). Gather and the Fetch functions
// are the I/O layer that fills a Snapshot with client-go and package
// statusport; Write prints a Report for people.
package diagnose
