package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/portico-ingress/portico/pkg/diagnose"
	"github.com/portico-ingress/portico/pkg/filewatch/filewatchtest"
)

// webhookCA is a CA that issues the webhook's serving certificates.
type webhookCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newWebhookCA(t *testing.T, name string) *webhookCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &webhookCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// serving issues a serving certificate for 127.0.0.1 with serial, as the
// tls.crt and tls.key of a kubernetes.io/tls Secret.
func (ca *webhookCA) serving(t *testing.T, serial int64) map[string][]byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "portico-webhook"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"tls.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

// testCA returns a CA's PEM and a serving certificate and key it signed
// for 127.0.0.1, laid out in dir as a Secret volume.
func testCA(t *testing.T, dir string) (caPEM []byte, certFile, keyFile string) {
	t.Helper()
	ca := newWebhookCA(t, "portico-e2e-webhook-ca")
	vol := filewatchtest.NewVolumeIn(t, dir, ca.serving(t, 2))
	return ca.pem, vol.Path("tls.crt"), vol.Path("tls.key")
}

// reviewClient posts AdmissionReviews to the webhook, one TLS handshake
// per review, trusting the CAs given.
func reviewClient(cas ...*webhookCA) *http.Client {
	pool := x509.NewCertPool()
	for _, ca := range cas {
		pool.AddCert(ca.cert)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}}
}

// review posts an AdmissionReview of ing and returns the serial of the
// certificate the webhook served and whether it allowed ing.
func review(c *http.Client, url string, ing runtime.Object, uid int) (serial int64, allowed bool, err error) {
	raw, err := json.Marshal(ing)
	if err != nil {
		return 0, false, err
	}
	body, _ := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: types.UID(fmt.Sprint("review-", uid)), Operation: admissionv1.Create,
			Kind:   metav1.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"},
			Object: runtime.RawExtension{Raw: raw}},
	})
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, false, err
	}
	serial = resp.TLS.PeerCertificates[0].SerialNumber.Int64()
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(b, &out); err != nil || out.Response == nil {
		return serial, false, fmt.Errorf("%d %s: not an AdmissionReview: %v", resp.StatusCode, short(string(b)), err)
	}
	return serial, out.Response.Allowed, nil
}

// The webhook's certificate lives in a Secret volume. A rotation to a
// certificate of a new CA (the kubelet swapping the volume's `..data`
// symlink) is served on the next handshake: under a loop of reviews, both
// straight to the webhook (one handshake each) and through the API server
// (whose CA bundle holds both CAs, as during a CA rotation), none fails,
// and the new certificate's serial is served within 2 s of the swap.
// Afterwards a client that trusts only the new CA succeeds, one that
// trusts only the old one fails, and the API server verifies against the
// new CA alone.
func TestWebhookCertificateRotation(t *testing.T) {
	ctx := context.Background()
	oldCA, newCA := newWebhookCA(t, "portico-e2e-webhook-ca-1"), newWebhookCA(t, "portico-e2e-webhook-ca-2")
	const oldSerial, newSerial = 0x1001, 0x2002
	vol := filewatchtest.NewVolume(t, oldCA.serving(t, oldSerial))
	port := freePort()
	startReplica(t, "rotation", nil, "--update-status=false", fmt.Sprintf("--validating-webhook=127.0.0.1:%d", port),
		"--validating-webhook-certificate="+vol.Path("tls.crt"), "--validating-webhook-key="+vol.Path("tls.key"))

	url := fmt.Sprintf("https://127.0.0.1:%d/networking/v1/ingresses", port)
	ns, config := webhookNamespace(t, "rotation", url, append(append([]byte{}, oldCA.pem...), newCA.pem...))
	newApp(t, ns, "api", 1, "")
	vwcs := env.client.AdmissionregistrationV1().ValidatingWebhookConfigurations()

	ings := env.client.NetworkingV1().Ingresses(ns)
	good := newIngress(ns, "good", nil, hostRule("rotation.example.com", prefixPath("/", "api")))
	bad := newIngress(ns, "bad", map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/x; return 200 pwned"},
		hostRule("rotation.example.com", prefixPath("/", "api")))
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	// apiReview creates bad and good as a dry run: the webhook must deny
	// the one and allow the other.
	apiReview := func() error {
		if _, err := ings.Create(ctx, bad, dryRun); err == nil || !strings.Contains(err.Error(), "denied the request") ||
			!strings.Contains(err.Error(), "InvalidAnnotation: ") {
			return fmt.Errorf("bad Ingress: %v", err)
		}
		if _, err := ings.Create(ctx, good, dryRun); err != nil {
			return fmt.Errorf("good Ingress: %v", err)
		}
		return nil
	}
	// The API server picks the configuration up asynchronously.
	eventually(t, "the API server asks the webhook", apiReview)

	both := reviewClient(oldCA, newCA)
	if serial, allowed, err := review(both, url, good, 0); err != nil || !allowed || serial != oldSerial {
		t.Fatalf("before the rotation: serial %#x, allowed %v, err %v", serial, allowed, err)
	}

	var (
		mu                 sync.Mutex
		failures           []string
		apiReviews         int
		rotatedAt, firstAt time.Time
		directReviews      int
		oldAfterNew        int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // through the API server
		defer wg.Done()
		for i := 0; i < 2000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			err := apiReview()
			mu.Lock()
			apiReviews++
			if err != nil {
				failures = append(failures, "API server: "+err.Error())
			}
			mu.Unlock()
		}
	}()
	go func() { // straight to the webhook, a handshake each
		defer wg.Done()
		for i := 1; i <= 5000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			serial, allowed, err := review(both, url, good, i)
			now := time.Now()
			mu.Lock()
			directReviews++
			switch {
			case err != nil:
				failures = append(failures, "direct: "+err.Error())
			case !allowed:
				failures = append(failures, "direct: the good Ingress was denied")
			case serial == newSerial && firstAt.IsZero():
				firstAt = now
			case serial == oldSerial && !firstAt.IsZero():
				oldAfterNew++
			}
			mu.Unlock()
		}
	}()
	time.Sleep(time.Second) // reviews before the rotation
	mu.Lock()
	rotatedAt = time.Now()
	mu.Unlock()
	vol.Update(newCA.serving(t, newSerial))
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		seen := !firstAt.IsZero() && time.Since(firstAt) > time.Second // and a second of reviews after it
		mu.Unlock()
		if seen || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d reviews through the API server, %d straight to the webhook; new serial first served %s after the swap",
		apiReviews, directReviews, firstAt.Sub(rotatedAt))
	if len(failures) > 0 {
		t.Fatalf("%d failed reviews, first: %s", len(failures), failures[0])
	}
	if firstAt.IsZero() {
		t.Fatal("the new certificate was not served within 10 s of the swap")
	}
	if took := firstAt.Sub(rotatedAt); took > 2*time.Second {
		t.Fatalf("the new certificate was first served %s after the swap, want within 2 s", took)
	}
	if oldAfterNew > 0 {
		t.Fatalf("%d handshakes got the old certificate after the new one was served", oldAfterNew)
	}
	if apiReviews < 5 || directReviews < 20 {
		t.Fatalf("too few reviews to tell: %d through the API server, %d direct", apiReviews, directReviews)
	}

	// Clients of the new CA alone are served; those of the old one are not.
	if serial, allowed, err := review(reviewClient(newCA), url, good, 0); err != nil || !allowed || serial != newSerial {
		t.Fatalf("a client of the new CA: serial %#x, allowed %v, err %v", serial, allowed, err)
	}
	var unknown x509.UnknownAuthorityError
	if _, _, err := review(reviewClient(oldCA), url, good, 0); !errors.As(err, &unknown) {
		t.Fatalf("a client of the old CA only: %v, want an unknown authority", err)
	}
	// The API server with the new CA alone keeps reviewing.
	cur, err := vwcs.Get(ctx, config, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Webhooks[0].ClientConfig.CABundle = newCA.pem
	if _, err := vwcs.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if err := apiReview(); err != nil {
			t.Fatalf("with the new CA alone in the bundle: %v", err)
		}
	}
}

// nginxWorkers lists the worker processes of master that still accept
// connections (not "shutting down").
func nginxWorkers(master int) map[int]bool {
	out := map[int]bool{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(master) {
			continue
		}
		title, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if bytes.HasPrefix(title, []byte("nginx: worker process")) && !bytes.Contains(title, []byte("shutting down")) {
			out[pid] = true
		}
	}
	return out
}

// scrapeMetric returns the value of an unlabelled metric on p's /metrics.
func scrapeMetric(p *portico, name string) (string, error) {
	code, body, err := plainGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.healthzPort))
	if err != nil || code != 200 {
		return "", fmt.Errorf("/metrics: %d %v", code, err)
	}
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("/metrics lacks %s", name)
}

// driftStatus is the drift part of p's /status.
func driftStatus(p *portico) (diagnose.Drift, error) {
	var s struct {
		Drift diagnose.Drift `json:"drift"`
	}
	code, body, err := plainGet(fmt.Sprintf("http://127.0.0.1:%d/status", p.healthzPort))
	if err != nil || code != 200 {
		return s.Drift, fmt.Errorf("/status: %d %v", code, err)
	}
	return s.Drift, json.Unmarshal([]byte(body), &s)
}

// An operator's hand edit of nginx.conf (kubectl exec, then nginx -s
// reload, the ingress-nginx habit) is seen within a second: a Warning in
// the log, /status's drift, the metrics; Portico's version is back on
// disk by then, so the reload that follows loads Portico's config, not
// the edit (which would answer 200 "hand edit" for its host). A restart
// of nginx right after an edit (the master killed before the watcher saw
// it) starts with Portico's config too. portico diagnose names the edit.
func TestDriftHandEditUndone(t *testing.T) {
	ns := namespace(t, "drift")
	web := newApp(t, ns, "web", 1, "")
	createIngress(t, newIngress(ns, "web", nil, hostRule("drift.example.com", prefixPath("/", "web"))))
	p := startReplica(t, "drift", nil, "--update-status=false")
	answer := func(host string) (int, string) {
		resp, body, err := request(p.httpPort, http.MethodGet, host, "/", nil)
		if err != nil {
			t.Fatalf("GET %s: %v", host, err)
		}
		return resp.StatusCode, string(body)
	}
	eventually(t, "the drift replica serves drift.example.com", func() error {
		if code, body := answer("drift.example.com"); code != 200 || !strings.Contains(body, web.pods[0].name) {
			return fmt.Errorf("got %d %s", code, short(body))
		}
		return nil
	})
	conf := filepath.Join(p.configDir, "nginx.conf")
	mine, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	edit := fmt.Sprintf("http {\n    server { listen %d; server_name edit.drift.example.com; return 200 \"hand edit\\n\"; }\n", p.httpPort)
	edited := []byte(strings.Replace(string(mine), "http {\n", edit, 1))
	// The edit is a config nginx takes, and it would change the answer.
	candidate := filepath.Join(t.TempDir(), "edited.conf")
	if err := os.WriteFile(candidate, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("nginx", "-t", "-q", "-e", "stderr", "-c", candidate).CombinedOutput(); err != nil {
		t.Fatalf("the hand edit is no valid nginx config: %v\n%s", err, out)
	}
	if code, _ := answer("edit.drift.example.com"); code != 404 {
		t.Fatalf("edit.drift.example.com answers %d before the edit, want 404", code)
	}
	master := func() int {
		b, err := os.ReadFile(filepath.Join(p.configDir, "run", "nginx.pid"))
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}

	// The edit, in place, as an editor inside the Pod writes it.
	if err := os.WriteFile(conf, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	edAt := time.Now()
	var seen time.Duration
	for {
		b, _ := os.ReadFile(conf)
		d, err := driftStatus(p)
		log, _ := os.ReadFile(p.logPath)
		if bytes.Equal(b, mine) && err == nil && d.Edits == 1 && d.Last != nil && d.Last.Path == conf && d.Last.Restored &&
			bytes.Contains(log, []byte("a file Portico writes was changed by someone else")) {
			seen = time.Since(edAt)
			break
		}
		if time.Since(edAt) > time.Second {
			t.Fatalf("after 1s: file restored %v, /status drift %+v (%v), Warning logged %v",
				bytes.Equal(b, mine), d, err, bytes.Contains(log, []byte("a file Portico writes was changed by someone else")))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("hand edit seen and undone in %s", seen)
	if v, err := scrapeMetric(p, "portico_config_drift_edits_total"); err != nil || v != "1" {
		t.Fatalf("portico_config_drift_edits_total %q (%v), want 1", v, err)
	}
	if v, err := scrapeMetric(p, "portico_config_drift"); err != nil || v != "0" {
		t.Fatalf("portico_config_drift %q (%v), want 0", v, err)
	}

	// The operator reloads, as nginx -s reload does: new workers, with
	// Portico's config.
	pid := master()
	before := nginxWorkers(pid)
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new nginx workers after the reload", func() error {
		now := nginxWorkers(pid)
		for w := range now {
			if before[w] {
				return fmt.Errorf("old worker %d still accepts", w)
			}
		}
		if len(now) == 0 {
			return errors.New("no workers")
		}
		return nil
	})
	if code, body := answer("edit.drift.example.com"); code != 404 {
		t.Fatalf("after the reload edit.drift.example.com answers %d %q: nginx loaded the hand edit", code, short(body))
	}
	if code, _ := answer("drift.example.com"); code != 200 {
		t.Fatalf("after the reload drift.example.com answers %d", code)
	}

	// An edit, and the master killed at once: the restart checks the file.
	st, err := p.status()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(master(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "nginx restarted", func() error {
		s, err := p.status()
		if err == nil && s.Nginx.Restarts <= st.Nginx.Restarts {
			err = fmt.Errorf("%d restarts", s.Nginx.Restarts)
		}
		if err == nil {
			if code, _ := answer("drift.example.com"); code != 200 {
				err = fmt.Errorf("drift.example.com answers %d", code)
			}
		}
		return err
	})
	if code, body := answer("edit.drift.example.com"); code != 404 {
		t.Fatalf("after the restart edit.drift.example.com answers %d %q: nginx started with the hand edit", code, short(body))
	}
	if d, err := driftStatus(p); err != nil || d.Edits != 2 {
		t.Fatalf("/status drift after the second edit: %+v (%v), want 2 edits", d, err)
	}

	// portico diagnose says so in the nginx hop.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, env.binary, "diagnose", "--kubeconfig="+env.cp.Kubeconfig(),
		fmt.Sprintf("--controller-url=http://127.0.0.1:%d", p.healthzPort), fmt.Sprintf("--lua-url=http://127.0.0.1:%d", p.statusPort),
		"drift.example.com/").CombinedOutput()
	if err != nil {
		t.Fatalf("portico diagnose: %v\n%s", err, out)
	}
	for _, want := range []string{"hand edits: 2 change(s) the controller did not make", conf, "make the change through the Ingress objects"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("portico diagnose lacks %q:\n%s", want, out)
		}
	}
}
