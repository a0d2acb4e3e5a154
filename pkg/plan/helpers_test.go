package plan

import (
	"encoding/json"
	"testing"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/modeltest"
)

var (
	ingress, annotate, rule, path, withTLS = modeltest.Ingress, modeltest.Annotate, modeltest.Rule, modeltest.Path, modeltest.WithTLS
	configMap, labObjects, ourClass        = modeltest.ConfigMap, modeltest.LabObjects, modeltest.OurClass
)

const (
	exact  = modeltest.Exact
	prefix = modeltest.Prefix
	impl   = modeltest.Impl
)

var defaultOptions = model.Options{IngressClass: "nginx", ControllerClass: "k8s.io/ingress-nginx"}

// planOf is m's plan without a previous one.
func planOf(t *testing.T, m *model.Config) *Plan {
	t.Helper()
	p, err := Make(m, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// routesOf are the routes p pushes to the Lua router.
func routesOf(t *testing.T, p *Plan) Routes {
	t.Helper()
	var r Routes
	if err := json.Unmarshal(p.Documents.Routes.Body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}
