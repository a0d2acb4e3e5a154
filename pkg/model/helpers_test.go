package model

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model/diag"
	"github.com/portico-ingress/portico/pkg/model/modeltest"
)

// Builders for test objects, from package modeltest.

type ingOpt = modeltest.Option

var (
	ingress, created, className, noClass, annotate     = modeltest.Ingress, modeltest.Created, modeltest.ClassName, modeltest.NoClass, modeltest.Annotate
	defaultBackend, rule, withTLS, path, namedPortPath = modeltest.DefaultBackend, modeltest.Rule, modeltest.WithTLS, modeltest.Path, modeltest.NamedPortPath
	svcBackend, class, service, withClusterIP, svcPort = modeltest.SvcBackend, modeltest.Class, modeltest.Service, modeltest.WithClusterIP, modeltest.SvcPort
	notReady, terminatingServing, ep, slice            = modeltest.NotReady, modeltest.TerminatingServing, modeltest.Endpoint, modeltest.Slice
	configMap, labObjects, ourClass                    = modeltest.ConfigMap, modeltest.LabObjects, modeltest.OurClass
	t0                                                 = modeltest.T0
)

const (
	exact  = modeltest.Exact
	prefix = modeltest.Prefix
	impl   = modeltest.Impl
)

var defaultOptions = Options{IngressClass: "nginx", ControllerClass: "k8s.io/ingress-nginx"}

// catchAll is the catch-all server with only its 404 root.
func catchAll(locs ...*Location) *Server {
	if locs == nil {
		locs = []*Location{{Modifier: ModPrefix, Path: "/"}}
	}
	return &Server{Host: "", Default: true, Locations: locs}
}

func loc(mod Modifier, p, backend, ingNS, ingName string) *Location {
	l := &Location{Modifier: mod, Path: p, Backend: backend, Ingress: IngressRef{ingNS, ingName}}
	if ingName != "" {
		// The Ingress path: a Prefix path's "/p/" location came from "/p".
		l.IngressPath = p
		if mod == ModPrefix && len(p) > 1 {
			l.IngressPath = strings.TrimSuffix(p, "/")
		}
	}
	return l
}

func metaNS(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }

// parseConfigMap parses cm with no last good values: a bad value is
// reported and the default is used in its place.
func parseConfigMap(cm *corev1.ConfigMap) (Global, []diag.Diagnostic) {
	g, _, ds := parseConfigMapKeeping(cm, nil, configRefs{})
	return g, ds
}
