package annotations

import "github.com/portico-ingress/portico/pkg/model/diag"

const nameServiceUpstream = "service-upstream"

// parseServiceUpstream parses service-upstream: proxy to the Service's
// cluster IP and port (kube-proxy or a service mesh picks the Pod)
// instead of to the Pods of its EndpointSlices.
func parseServiceUpstream(a Annotations) (bool, []diag.Diagnostic) {
	v, _, ds := parseBool(a, nameServiceUpstream)
	return v, ds
}
