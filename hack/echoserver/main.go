// Command echoserver is the HTTP backend of make dev and the e2e suite: it
// answers every request with a JSON description of it, and plays an auth
// service on /__auth/ (see package echo).
// On the same port it speaks HTTP/2 too (cleartext by prior knowledge, or
// ALPN h2 over TLS) and answers gRPC health checks (echo.GRPC). Over TLS
// (--tls-cert) it may speak one TLS version (--tls-version) and offer
// only some TLS 1.2 cipher suites (--tls-ciphers). With
// --fastcgi it is a FastCGI responder instead, as PHP-FPM is. With --tcp
// or --udp it is the backend of a stream service instead: a TCP echo that
// first names the pod and the client (echo.ServeTCP, which reads the PROXY
// protocol with --proxy-protocol) and a UDP echo (echo.ServeUDP).
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/fcgi"
	"os/signal"
	"strings"
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
	tlsVersion := flag.String("tls-version", "", "with --tls-cert, the one TLS version served: 1.2 or 1.3 (default both)")
	tlsCiphers := flag.String("tls-ciphers", "", "with --tls-cert, the TLS 1.2 cipher suites served, comma-separated IANA names (default Go's)")
	shutdownTimeout := flag.Duration("shutdown-timeout", 10*time.Second, "how long in-flight requests may finish after SIGTERM")
	fastCGI := flag.Bool("fastcgi", false, "speak FastCGI (a responder, as PHP-FPM) instead of HTTP")
	tcp := flag.String("tcp", "", "address:port of a TCP echo (a stream service's backend) served instead of HTTP")
	udp := flag.String("udp", "", "address:port of a UDP echo served instead of HTTP")
	proxy := flag.Bool("proxy-protocol", false, "the TCP echo reads a PROXY protocol header (v1 or v2) first")
	flag.Parse()
	if *tcp != "" || *udp != "" {
		if err := runLayer4(*tcp, *udp, *pod, *proxy); err != nil {
			log.Fatalf("echoserver: %v", err)
		}
		return
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		log.Fatal("echoserver: --tls-cert and --tls-key go together")
	}
	tlsConfig, err := serverTLS(*tlsVersion, *tlsCiphers)
	if err != nil {
		log.Fatalf("echoserver: %v", err)
	}
	if *fastCGI {
		err = runFastCGI(*listen, *service, *pod)
	} else {
		err = run(*listen, *service, *pod, *tlsCert, *tlsKey, tlsConfig, *shutdownTimeout)
	}
	if err != nil {
		log.Fatalf("echoserver: %v", err)
	}
}

// runFastCGI serves the echo handler over FastCGI until SIGTERM or
// SIGINT.
func runFastCGI(listen, service, pod string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- fcgi.Serve(ln, echo.Handler(service, pod)) }()
	log.Printf("echoserver: service %q pod %q serving FastCGI on %s", service, pod, ln.Addr())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
		return ln.Close()
	}
}

// run serves until SIGTERM or SIGINT, then drains for at most shutdownTimeout.
func run(listen, service, pod, tlsCert, tlsKey string, tlsConfig *tls.Config, shutdownTimeout time.Duration) error {
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
		TLSConfig:         tlsConfig,
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

// serverTLS is the TLS configuration of --tls-version and --tls-ciphers:
// a backend that speaks one TLS version, or offers only some TLS 1.2
// cipher suites (what a proxy's protocols and ciphers must meet).
func serverTLS(version, ciphers string) (*tls.Config, error) {
	c := &tls.Config{}
	switch version {
	case "":
	case "1.2":
		c.MinVersion, c.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	case "1.3":
		c.MinVersion, c.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
	default:
		return nil, fmt.Errorf("--tls-version %q: want 1.2 or 1.3", version)
	}
	if ciphers != "" {
		byName := map[string]uint16{}
		for _, s := range tls.CipherSuites() {
			byName[s.Name] = s.ID
		}
		for _, n := range strings.Split(ciphers, ",") {
			id, ok := byName[n]
			if !ok {
				return nil, fmt.Errorf("--tls-ciphers: unknown cipher suite %q", n)
			}
			c.CipherSuites = append(c.CipherSuites, id)
		}
	}
	return c, nil
}

// runLayer4 serves the TCP and UDP echoes until one fails or SIGTERM.
func runLayer4(tcp, udp, pod string, proxy bool) error {
	errs := make(chan error, 2)
	if tcp != "" {
		ln, err := net.Listen("tcp", tcp)
		if err != nil {
			return err
		}
		go func() { errs <- echo.ServeTCP(ln, pod, proxy) }()
	}
	if udp != "" {
		pc, err := net.ListenPacket("udp", udp)
		if err != nil {
			return err
		}
		go func() { errs <- echo.ServeUDP(pc, pod) }()
	}
	log.Printf("echoserver: pod %q serving TCP %q UDP %q (PROXY protocol %t)", pod, tcp, udp, proxy)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
		return nil
	}
}
