package echo

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// serveBoth serves WithGRPC on loopback with HTTP/1.1 and cleartext
// HTTP/2, as the echoserver command does.
func serveBoth(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: WithGRPC(Handler("svc", "pod-0"), GRPC("svc", "pod-0")), Protocols: p}
	go srv.Serve(ln) //nolint:errcheck // closed below
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func TestGRPCHealthEcho(t *testing.T) {
	addr := serveBoth(t)
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority("grpc.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "x-request-id", "abc")

	for _, name := range []string{"", "svc"} {
		var md metadata.MD
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: name}, grpc.Header(&md))
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("Check(%q) = %v, %v", name, resp, err)
		}
		if got := md.Get("x-echo-pod"); len(got) != 1 || got[0] != "pod-0" {
			t.Errorf("x-echo-pod = %q", got)
		}
		raw := md.Get(GRPCEchoHeader)
		if len(raw) != 1 {
			t.Fatalf("%s = %q", GRPCEchoHeader, raw)
		}
		var seen Response
		if err := json.Unmarshal([]byte(raw[0]), &seen); err != nil {
			t.Fatal(err)
		}
		if seen.Pod != "pod-0" || seen.Service != "svc" || seen.Path != "/grpc.health.v1.Health/Check" ||
			seen.Host != "grpc.example.com" || seen.Proto != "HTTP/2.0" || seen.RemoteAddr == "" {
			t.Errorf("backend saw %+v", seen)
		}
		if got := seen.Headers["X-Request-Id"]; len(got) != 1 || got[0] != "abc" {
			t.Errorf("X-Request-Id = %q", got)
		}
	}
	_, err = client.Check(ctx, &healthpb.HealthCheckRequest{Service: "other"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("Check(other) = %v, want NotFound", err)
	}

	// Everything else on the same port is still the HTTP echo.
	resp, err := http.Get("http://" + addr + "/x")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e Response
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Path != "/x" || e.Proto != "HTTP/1.1" {
		t.Errorf("HTTP/1.1 GET: %+v, %v", e, err)
	}
}

func TestIsGRPC(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/grpc": true, "application/grpc+proto": true, "application/grpc;charset=x": true,
		"application/grpc-web": false, "application/json": false, "": false,
	} {
		if isGRPC(ct) != want {
			t.Errorf("isGRPC(%q) = %t", ct, !want)
		}
	}
}
