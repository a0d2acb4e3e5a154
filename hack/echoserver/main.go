// Command echoserver is the HTTP backend of make dev and the e2e suite: it
// answers every request with a JSON description of it, and plays an auth
// service on /__auth/ (see package echo).
// On the same port it speaks HTTP/2 too (cleartext by prior knowledge, or
// ALPN h2 over TLS) and answers gRPC health checks (echo.GRPC).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5678", "address:port to listen on")
	service := flag.String("service", "", "Service name reported in answers")
	pod := flag.String("pod", "", "pod name reported in answers and in the X-Echo-Pod header")
	tlsCert := flag.String("tls-cert", "", "PEM certificate; with --tls-key, serve HTTPS")
	tlsKey := flag.String("tls-key", "", "PEM private key of --tls-cert")
	shutdownTimeout := flag.Duration("shutdown-timeout", 10*time.Second, "how long in-flight requests may finish after SIGTERM")
	flag.Parse()
	if (*tlsCert == "") != (*tlsKey == "") {
		log.Fatal("echoserver: --tls-cert and --tls-key go together")
	}
	if err := run(*listen, *service, *pod, *tlsCert, *tlsKey, *shutdownTimeout); err != nil {
		log.Fatalf("echoserver: %v", err)
	}
}

// run serves until SIGTERM or SIGINT, then drains for at most shutdownTimeout.
func run(listen, service, pod, tlsCert, tlsKey string, shutdownTimeout time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	protocols.SetUnencryptedHTTP2(true)
	auth := echo.NewAuth()
	srv := &http.Server{
		Handler:           echo.WithGRPC(auth.Wrap(echo.Handler(service, pod), pod), echo.GRPC(service, pod)),
		ReadHeaderTimeout: 10 * time.Second,
		Protocols:         protocols,
		ConnContext:       auth.ConnContext,
	}
	served := make(chan error, 1)
	go func() {
		if tlsCert != "" {
			served <- srv.ServeTLS(ln, tlsCert, tlsKey)
		} else {
			served <- srv.Serve(ln)
		}
	}()
	log.Printf("echoserver: service %q pod %q serving on %s (tls=%t)", service, pod, ln.Addr(), tlsCert != "")

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
