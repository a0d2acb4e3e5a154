package controller

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/diag"
)

// Webhook configures the validating admission webhook.
type Webhook struct {
	// Addr is the listen address, e.g. ":8443"; "" disables the webhook.
	Addr string
	// CertFile and KeyFile are the PEM serving certificate and key; they
	// are read again when they change on disk.
	CertFile, KeyFile string
}

// maxReview bounds an AdmissionReview body.
const maxReview = 8 << 20

// serveWebhook serves POST /validate (any path is accepted) over TLS.
func (c *Controller) serveWebhook() (*http.Server, error) {
	certs := &certReloader{certFile: c.cfg.Webhook.CertFile, keyFile: c.cfg.Webhook.KeyFile}
	if _, err := certs.get(nil); err != nil {
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
	cfg := model.Build(in)
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

// certReloader serves a key pair from files, read again when they change.
type certReloader struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time
}

func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, err := os.Stat(r.certFile)
	if err != nil {
		if r.cert != nil {
			return r.cert, nil
		}
		return nil, err
	}
	if r.cert != nil && st.ModTime().Equal(r.modTime) {
		return r.cert, nil
	}
	pair, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		if r.cert != nil {
			return r.cert, nil // keep serving the last good pair mid-rotation
		}
		return nil, err
	}
	r.cert, r.modTime = &pair, st.ModTime()
	return r.cert, nil
}
