package controller

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/filewatch"
	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Webhook configures the validating admission webhook.
type Webhook struct {
	// Addr is the listen address, e.g. ":8443"; "" disables the webhook.
	Addr string
	// CertFile and KeyFile are the PEM serving certificate and key; a
	// file watcher loads them again when they change on disk (a Secret
	// volume's new version), and handshakes take them from memory.
	CertFile, KeyFile string
}

// maxReview bounds an AdmissionReview body.
const maxReview = 8 << 20

// serveWebhook serves POST /validate (any path is accepted) over TLS
// until ctx ends.
func (c *Controller) serveWebhook(ctx context.Context) (*http.Server, error) {
	certs := &webhookCert{certFile: c.cfg.Webhook.CertFile, keyFile: c.cfg.Webhook.KeyFile, log: c.log.Named("webhook")}
	if err := certs.watch(ctx); err != nil {
		return nil, fmt.Errorf("validating webhook certificate: %w", err)
	}
	ln, err := net.Listen("tcp", c.cfg.Webhook.Addr)
	if err != nil {
		return nil, fmt.Errorf("validating webhook: %w", err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(c.admit),
		ReadHeaderTimeout: 5 * time.Second,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.get},
	}
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Error("validating webhook server", zap.Error(err))
		}
	}()
	c.log.Info("validating webhook listening", zap.String("addr", ln.Addr().String()))
	return srv, nil
}

// ingressKind is the one kind the webhook reviews.
var ingressKind = metav1.GroupVersionKind{Group: networkingv1.GroupName, Version: "v1", Kind: "Ingress"}

// admit answers an admission.k8s.io/v1 AdmissionReview of a
// networking.k8s.io/v1 Ingress: denied when the model refuses part of it
// (an Error diagnostic), with the messages its Events would carry; Warning
// diagnostics come back as admission warnings. A review of anything else
// (another kind, group or version, an object that is not that Ingress)
// is denied with a message: the webhook fails closed on what it does not
// understand, whatever its registration sends it.
func (c *Controller) admit(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodPost {
		http.Error(w, "POST an AdmissionReview", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxReview+1))
	if err != nil || len(body) > maxReview {
		http.Error(w, "cannot read the request body (at most 8 MiB)", http.StatusBadRequest)
		return
	}
	var review admissionv1.AdmissionReview
	err = json.Unmarshal(body, &review)
	if err != nil || review.Request == nil || review.APIVersion != admissionv1.SchemeGroupVersion.String() || review.Kind != "AdmissionReview" {
		http.Error(w, "want an admission.k8s.io/v1 AdmissionReview with a request", http.StatusBadRequest)
		return
	}
	req := review.Request
	resp := &admissionv1.AdmissionResponse{UID: req.UID}
	deny := func(format string, args ...any) {
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusBadRequest, Reason: metav1.StatusReasonBadRequest,
			Message: fmt.Sprintf(format, args...)}
	}
	var ing networkingv1.Ingress
	switch {
	case req.Kind != ingressKind:
		deny("this webhook validates networking.k8s.io/v1 Ingresses only, not %s %s; send it only those (rules: apiGroups [networking.k8s.io], apiVersions [v1], resources [ingresses])",
			strings.TrimPrefix(req.Kind.Group+"/"+req.Kind.Version, "/"), req.Kind.Kind)
	case req.Operation != admissionv1.Create && req.Operation != admissionv1.Update:
		resp.Allowed = true // nothing to validate
	default:
		if err := json.Unmarshal(req.Object.Raw, &ing); err != nil {
			deny("the object is not an Ingress: %v", err)
			break
		}
		if (ing.APIVersion != "" && ing.APIVersion != networkingv1.SchemeGroupVersion.String()) || (ing.Kind != "" && ing.Kind != "Ingress") {
			deny("the object is a %s %s, not a networking.k8s.io/v1 Ingress", ing.APIVersion, ing.Kind)
			break
		}
		if ing.Namespace == "" {
			ing.Namespace = req.Namespace
		}
		if ing.Name == "" {
			ing.Name = req.Name
		}
		errs, warns := c.validateIngress(&ing)
		resp.Allowed, resp.Warnings = len(errs) == 0, warns
		c.metrics.observeReview(ing.Namespace, ing.Name, resp.Allowed, time.Since(start))
		if len(errs) > 0 {
			resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusUnprocessableEntity,
				Reason: metav1.StatusReasonInvalid, Message: strings.Join(errs, "; ")}
		}
	}
	msg := ""
	if resp.Result != nil {
		msg = resp.Result.Message
	}
	c.log.Debug("admission review", zap.String("kind", req.Kind.String()), zap.String("object", req.Namespace+"/"+req.Name),
		zap.Bool("allowed", resp.Allowed), zap.String("message", msg))
	out := admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// validateIngress builds the model from the caches with ing in place of
// its current version and returns what it says about ing: the messages of
// Error and of Warning diagnostics, as "Reason: field: message".
func (c *Controller) validateIngress(ing *networkingv1.Ingress) (errs, warns []string) {
	if ing.CreationTimestamp.IsZero() {
		// A new Ingress is the newest: it loses conflicts.
		ing.CreationTimestamp = metav1.Now()
	}
	in := c.modelInput(c.watcher.Snapshot())
	ings := make([]*networkingv1.Ingress, 0, len(in.Ingresses)+1)
	for _, x := range in.Ingresses {
		if x.Namespace != ing.Namespace || x.Name != ing.Name {
			ings = append(ings, x)
		}
	}
	in.Ingresses = append(ings, ing)
	buildStart := time.Now()
	cfg := model.Build(in)
	c.metrics.observeTest(len(in.Ingresses), time.Since(buildStart))
	obj := diag.Object{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
	for _, d := range cfg.Diagnostics {
		if d.Object != obj {
			continue
		}
		switch d.Severity {
		case diag.Error:
			errs = append(errs, d.Reason+": "+message(d))
		case diag.Warning:
			warns = append(warns, d.Reason+": "+message(d))
		}
	}
	return errs, warns
}

// webhookCert serves the webhook's key pair from memory. The files are
// read once per change, by a file watcher, never on a handshake; a pair
// that does not load (half written, or a key that is not the
// certificate's) leaves the last good pair served, with a Warning.
type webhookCert struct {
	certFile, keyFile string
	log               *zap.Logger

	pair atomic.Pointer[tls.Certificate]
	// mu guards the files' contents as last read; only the watcher's
	// goroutine (and the first load) change them.
	mu        sync.Mutex
	cert, key []byte
}

// watch reads the pair and keeps it current until ctx ends; it fails when
// there is no good pair to start with.
func (c *webhookCert) watch(ctx context.Context) error {
	c.mu.Lock() // a change reported meanwhile waits for the first load
	defer c.mu.Unlock()
	_, files := filewatch.Watch(ctx, filewatch.Options{Log: c.log}, c.changed, c.certFile, c.keyFile)
	for _, f := range files {
		if f.Err != nil {
			return f.Err
		}
	}
	return c.load(files)
}

// changed takes the files the watcher reports.
func (c *webhookCert) changed(files []filewatch.File) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.load(files); err != nil {
		c.log.Warn("validating webhook: the certificate and key on disk do not load; the last good pair is still served",
			zap.String("certificate", c.certFile), zap.String("key", c.keyFile), zap.Error(err))
	}
}

// load takes the files given and serves the pair they make, if it loads;
// c.mu is held.
func (c *webhookCert) load(files []filewatch.File) error {
	for _, f := range files {
		if f.Path == filepath.Clean(c.certFile) {
			c.cert = f.Data
		}
		if f.Path == filepath.Clean(c.keyFile) {
			c.key = f.Data
		}
	}
	pair, err := tls.X509KeyPair(c.cert, c.key)
	if err != nil {
		return err
	}
	c.pair.Store(&pair)
	c.log.Info("validating webhook: serving certificate loaded", zap.String("serial", pair.Leaf.SerialNumber.Text(16)),
		zap.Time("notAfter", pair.Leaf.NotAfter), zap.Strings("dnsNames", pair.Leaf.DNSNames))
	return nil
}

// get is tls.Config.GetCertificate: the pair in memory.
func (c *webhookCert) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if p := c.pair.Load(); p != nil {
		return p, nil
	}
	return nil, errors.New("no serving certificate loaded")
}
