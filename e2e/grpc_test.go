package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	grpcstatus "google.golang.org/grpc/status"

	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

// grpcClient is a gRPC connection to Portico's HTTPS port for host (SNI
// and :authority), trusting only c.
func grpcClient(t *testing.T, c cert, host string) healthpb.HealthClient {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.crt)
	conn, err := grpc.NewClient(fmt.Sprintf("passthrough:///127.0.0.1:%d", env.portico.httpsPort),
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: host})),
		grpc.WithAuthority(host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return healthpb.NewHealthClient(conn)
}

// grpcCheck calls Health/Check for service with the metadata pairs kv and
// returns what the echo backend saw.
func grpcCheck(client healthpb.HealthClient, service string, kv ...string) (*echo.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if len(kv) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, kv...)
	}
	var md metadata.MD
	resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: service}, grpc.Header(&md))
	if err != nil {
		return nil, err
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return nil, fmt.Errorf("status %s", resp.GetStatus())
	}
	raw := md.Get(echo.GRPCEchoHeader)
	if len(raw) != 1 {
		return nil, fmt.Errorf("no %s in the answer's header (%v)", echo.GRPCEchoHeader, md)
	}
	var seen echo.Response
	if err := json.Unmarshal([]byte(raw[0]), &seen); err != nil {
		return nil, err
	}
	return &seen, nil
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// backend-protocol GRPC and GRPCS: a gRPC client speaks HTTP/2 over TLS to
// Portico, which passes each call to the backend over cleartext HTTP/2
// (GRPC) or over TLS (GRPCS), balancing calls of one client connection
// over the pods. The backends are grpc-go's health service in the echo
// pods; the same Service without the annotation gets HTTP/1.1, which no
// gRPC server answers. The Lua router serves these hosts.
func TestAnnotationsBackendProtocolGRPC(t *testing.T) {
	ns := namespace(t, "grpc")
	a := newApp(t, ns, "grpcapp", 2, "")
	s := newTLSApp(t, ns, "grpcsapp")
	c := newCert(t, time.Now().Add(time.Hour), "grpc.example.com", "grpcs.example.com", "h1.example.com", "grpc2.example.com")
	putTLSSecret(t, ns, "grpc-tls", c)
	for _, i := range []struct {
		name, host, protocol string
		a                    *app
	}{
		{"grpc", "grpc.example.com", "GRPC", a},
		{"grpcs", "grpcs.example.com", "GRPCS", s},
		{"h1", "h1.example.com", "", a},
	} {
		var annotations map[string]string
		if i.protocol != "" {
			annotations = map[string]string{ann + "backend-protocol": i.protocol}
		}
		ing := newIngress(ns, i.name, annotations, hostRule(i.host, prefixPath("/", i.a.name)))
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{i.host}, SecretName: "grpc-tls"}}
		createIngress(t, ing)
	}

	client := grpcClient(t, c, "grpc.example.com")
	var seen *echo.Response
	eventually(t, "Health/Check on grpc.example.com answered by grpcapp", func() error {
		var err error
		seen, err = grpcCheck(client, a.name, "x-request-id", "grpc-e2e-1")
		if err == nil && seen.Service != a.name {
			err = fmt.Errorf("answered by %s", seen.Service)
		}
		return err
	})
	if seen.Host != "grpc.example.com" || seen.Path != "/grpc.health.v1.Health/Check" || seen.Proto != "HTTP/2.0" {
		t.Errorf("backend saw %s %s over %s", seen.Host, seen.Path, seen.Proto)
	}
	for h, want := range map[string]string{
		"X-Request-Id": "grpc-e2e-1", "X-Real-Ip": "127.0.0.1", "X-Forwarded-For": "127.0.0.1",
		"X-Forwarded-Proto": "https", "X-Forwarded-Scheme": "https", "X-Forwarded-Host": "grpc.example.com",
		"X-Forwarded-Port": fmt.Sprint(env.portico.httpsPort),
	} {
		if got := seen.Headers[h]; len(got) != 1 || got[0] != want {
			t.Errorf("backend saw %s %q, want %q", h, got, want)
		}
	}
	// Without the client's id, Portico makes one.
	if seen, err := grpcCheck(client, ""); err != nil {
		t.Error(err)
	} else if got := seen.Headers["X-Request-Id"]; len(got) != 1 || !hex32.MatchString(got[0]) {
		t.Errorf("X-Request-ID %q, want 32 hex digits", got)
	}

	// One client connection, calls spread over both pods.
	pods := map[string]int{}
	for range 20 {
		seen, err := grpcCheck(client, a.name)
		if err != nil {
			t.Fatal(err)
		}
		pods[seen.Pod]++
	}
	if len(pods) != 2 {
		t.Errorf("20 calls answered by %v, want both pods", pods)
	}

	// A gRPC error status (in the trailers) reaches the client intact.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"})
	if st := grpcstatus.Convert(err); st.Code() != codes.NotFound || !strings.Contains(st.Message(), `not "nope"`) {
		t.Errorf("Check(nope) = %v, want the backend's NotFound", err)
	}

	// GRPCS: TLS (ALPN h2) to the backend.
	sclient := grpcClient(t, c, "grpcs.example.com")
	eventually(t, "Health/Check on grpcs.example.com answered by grpcsapp", func() error {
		seen, err := grpcCheck(sclient, s.name)
		if err == nil && (seen.Pod != s.pods[0].name || seen.Proto != "HTTP/2.0") {
			err = fmt.Errorf("answered by %s over %s", seen.Pod, seen.Proto)
		}
		return err
	})

	// The Lua router serves the gRPC hosts too: it hands their calls to
	// the named location with grpc_pass of their settings, so a second
	// GRPC Ingress needs no reload.
	routedInLua(t, "grpc.example.com", "grpcs.example.com")
	before := quietReloads(t)
	ing := newIngress(ns, "grpc2", map[string]string{ann + "backend-protocol": "GRPC"}, hostRule("grpc2.example.com", prefixPath("/", a.name)))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"grpc2.example.com"}, SecretName: "grpc-tls"}}
	createIngress(t, ing)
	client2 := grpcClient(t, c, "grpc2.example.com")
	eventually(t, "Health/Check on grpc2.example.com answered by grpcapp", func() error {
		seen, err := grpcCheck(client2, a.name)
		if err == nil && seen.Host != "grpc2.example.com" {
			err = fmt.Errorf("backend saw :authority %s", seen.Host)
		}
		return err
	})
	if after := mustStatus(t).Nginx.Reloads; after != before {
		t.Errorf("a second GRPC Ingress reloaded nginx %d times; want 0", after-before)
	}

	// Without the annotation the backend gets HTTP/1.1: not gRPC.
	eventually(t, "https://h1.example.com/ answered by grpcapp", func() error {
		_, e, err := httpsGet(httpsClient(c), "h1.example.com", "/")
		if err == nil && e.Service != a.name {
			err = fmt.Errorf("answered by %s", e.Service)
		}
		return err
	})
	_, err = grpcCheck(grpcClient(t, c, "h1.example.com"), a.name)
	if code := grpcstatus.Code(err); code == codes.OK || code == codes.NotFound {
		t.Errorf("gRPC through a plain HTTP location = %v, want a transport error", err)
	}
}

// backend-protocol GRPCS to a backend that speaks TLS 1.3 only: nginx
// offers its gRPC backends TLSv1.2 and TLSv1.3 (grpc_ssl_protocols), as
// ingress-nginx's nginx does, so the call is answered; a backend of TLS
// 1.2 only is answered too.
func TestAnnotationsBackendProtocolGRPCSTLSVersions(t *testing.T) {
	ns := namespace(t, "grpcstls")
	root := newChainCA(t, "root", nil)
	c := newCert(t, time.Now().Add(time.Hour), "grpcs13.example.com", "grpcs12.example.com")
	putTLSSecret(t, ns, "grpcs-tls", c)
	for _, i := range []struct{ host, version string }{
		{"grpcs13.example.com", "1.3"},
		{"grpcs12.example.com", "1.2"},
	} {
		name := "v" + strings.ReplaceAll(i.version, ".", "")
		b := newChainedTLSApp(t, ns, name, root, "--tls-version="+i.version)
		ing := newIngress(ns, name, map[string]string{ann + "backend-protocol": "GRPCS"}, hostRule(i.host, prefixPath("/", b.name)))
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{i.host}, SecretName: "grpcs-tls"}}
		createIngress(t, ing)
		client := grpcClient(t, c, i.host)
		eventually(t, "Health/Check on "+i.host+" answered by a TLS "+i.version+" backend", func() error {
			seen, err := grpcCheck(client, b.name)
			if err == nil && (seen.Pod != b.pods[0].name || seen.Proto != "HTTP/2.0" || seen.Host != i.host) {
				err = fmt.Errorf("answered by %s for %s over %s", seen.Pod, seen.Host, seen.Proto)
			}
			return err
		})
	}
}
