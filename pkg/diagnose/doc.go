// Package diagnose explains, hop by hop, why a request to an Ingress host
// and path succeeds or fails: IngressClass, Ingress rule, Service and port,
// EndpointSlices and the Pods behind not-ready endpoints, TLS certificate,
// and what the running nginx holds.
//
// Contract: Diagnose is a pure function from a Snapshot (Kubernetes objects
// plus what the controller reported over HTTP) to a Report. It reads no
// clock (Snapshot.Now), does no I/O and routes with model.Build and
// Config.Match, the controller's own code, so its answer is the
// controller's. Gather and the Fetch functions are the I/O layer that fills
// a Snapshot with client-go and HTTP; Write prints a Report for people.
package diagnose
