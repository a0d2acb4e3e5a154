// Package lint checks Ingress manifests offline with the controller's own
// validation: it decodes Kubernetes objects from YAML or JSON files and runs
// model.Build on them, so every diagnostic is one the controller would
// report (invalid or unsupported annotations, bad hosts and paths, missing
// Services, ports and TLS Secrets, conflicting host/path pairs) plus
// Ingresses whose class names no IngressClass. It adds an Info note
// (PartlySupported) for each partly supported annotation of a served
// Ingress and each partly supported key of the ConfigMap, with how Portico
// differs from ingress-nginx, from the registries of pkg/model.
//
// Contract: Decode and Load do file I/O only; Lint is pure. References to
// Services (TLS Secrets, ConfigMaps of auth-proxy-set-headers) are checked
// when the input holds at least one Service (Secret, ConfigMap other than
// the controller's), or always with Options.StrictRefs, so linting a lone
// Ingress file does not report every backend as missing. When the input
// holds no IngressClass, one named Options.Model.IngressClass with the
// controller's class is assumed.
package lint
