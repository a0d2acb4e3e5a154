package controller

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/plan"
)

// What nginx refused lands on the Ingresses it came from, once each: a
// certificate on the Ingress naming its Secret, a backend on the Ingresses
// whose paths name it, a host on the Ingresses routed on it; Ingresses
// this controller does not own get nothing.
func TestRefusalDiagnostics(t *testing.T) {
	a, b, other := model.IngressRef{Namespace: "ns", Name: "a"}, model.IngressRef{Namespace: "ns", Name: "b"}, model.IngressRef{Namespace: "x", Name: "c"}
	cfg := &model.Config{
		Ingresses: []model.IngressRef{a, b},
		Servers: []*model.Server{{Host: "s.example.com", Locations: []*model.Location{
			{Path: "/", Backend: "ns/svc:80", Ingress: a}, {Path: "/b", Backend: "ns/svc:80", Ingress: a}, {Path: "/c", Backend: "ns/other:80", Ingress: b}}},
			{Host: "r.example.com", Locations: []*model.Location{
				{Path: "/", Backend: "ns/svc:80", Ingress: b}, {Path: "/x", Backend: "ns/svc:80", Ingress: other}}}},
	}
	ing := func(ref model.IngressRef, secret string) *networkingv1.Ingress {
		return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name},
			Spec: networkingv1.IngressSpec{TLS: []networkingv1.IngressTLS{{SecretName: "other"}, {SecretName: secret}}}}
	}
	ds := refusalDiagnostics([]plan.Refusal{
		{Kind: "certificate", Name: "ns/tls", Reason: "cert does not parse"},
		{Kind: "backend", Name: "ns/svc:80", Reason: "endpoint needs a port"},
		{Kind: "host", Name: "r.example.com", Reason: "route 1 needs a path"},
	}, cfg, []*networkingv1.Ingress{ing(a, "tls"), ing(b, "nope"), ing(other, "tls")})
	var got []string
	for _, d := range ds {
		got = append(got, d.Object.Name+" "+d.Field+" "+d.Reason+": "+d.Message[:strings.Index(d.Message, "(")])
	}
	want := []string{
		"a spec.tls[1].secretName NginxRefusedItem: nginx refused the certificate of Secret ns/tls ",
		"a  NginxRefusedItem: nginx refused backend ns/svc:80 ",
		"b  NginxRefusedItem: nginx refused backend ns/svc:80 ",
		"b  NginxRefusedItem: nginx refused the routes of host \"r.example.com\" ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
