package echo

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// GRPCEchoHeader is the response header metadata (binary, so any bytes)
// in which a gRPC call gets its Response: the call as the backend saw it.
const GRPCEchoHeader = "x-echo-request-bin"

// GRPC is the gRPC side of the echo backend, for backend-protocol GRPC and
// GRPCS: the standard health service (grpc.health.v1.Health). Check
// answers SERVING for the names "" and service, NotFound for any other,
// and sends a Response (Host is the :authority, Headers the metadata) in
// GRPCEchoHeader and the pod in PodHeader.
func GRPC(service, pod string) *grpc.Server {
	s := grpc.NewServer()
	healthpb.RegisterHealthServer(s, &health{service: service, pod: pod})
	return s
}

// WithGRPC sends gRPC calls (HTTP/2, Content-Type application/grpc or
// application/grpc+<codec>) to g and every other request to h.
func WithGRPC(h http.Handler, g *grpc.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && isGRPC(r.Header.Get("Content-Type")) {
			g.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func isGRPC(contentType string) bool {
	rest, ok := strings.CutPrefix(contentType, "application/grpc")
	return ok && (rest == "" || rest[0] == '+' || rest[0] == ';')
}

type health struct {
	healthpb.UnimplementedHealthServer
	service, pod string
}

func (h *health) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	seen := Response{Service: h.service, Pod: h.pod, Method: http.MethodPost, Proto: "HTTP/2.0", Headers: map[string][]string{}}
	seen.Path, _ = grpc.Method(ctx)
	seen.RequestURI = seen.Path
	md, _ := metadata.FromIncomingContext(ctx)
	for k, v := range md {
		if k == ":authority" && len(v) > 0 {
			seen.Host = v[0]
			continue
		}
		seen.Headers[http.CanonicalHeaderKey(k)] = v
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		seen.RemoteAddr = p.Addr.String()
	}
	b, err := json.Marshal(seen)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if err := grpc.SetHeader(ctx, metadata.Pairs(GRPCEchoHeader, string(b), strings.ToLower(PodHeader), h.pod)); err != nil {
		return nil, err
	}
	switch req.GetService() {
	case "", h.service:
		return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
	}
	return nil, status.Errorf(codes.NotFound, "%s serves %q, not %q", h.pod, h.service, req.GetService())
}
