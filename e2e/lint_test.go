package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/portico-ingress/portico/pkg/lint"
)

// lintRun runs the built `portico lint` with args and returns its parsed
// JSON result and exit code.
func lintRun(t *testing.T, args ...string) (lint.Result, int) {
	t.Helper()
	out, stderr, code := runBinary(t, append([]string{"lint", "-o", "json"}, args...)...)
	var res lint.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("portico lint %v: output is not JSON: %v\n%s%s", args, err, out, stderr)
	}
	return res, code
}

// runBinary runs the built portico with args, bounded in time, and returns
// its output and exit code.
func runBinary(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.binary, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("portico %v: %v\n%s", args, err, errOut.String())
		}
		code = exit.ExitCode()
	}
	return out.String(), errOut.String(), code
}

// findings lists "Reason field: message" for each diagnostic about obj.
func findings(res lint.Result, obj string) []string {
	var out []string
	for _, d := range res.Diagnostics {
		if d.Object.Name == obj {
			out = append(out, d.Reason+" "+d.Field+": "+d.Message)
		}
	}
	slices.Sort(out)
	return out
}

// lint on the manifests of e2e/testdata/lint, offline and against the
// real API server: it reports what the controller then reports and does,
// and the file it passes is served once applied.
func TestLintFilesAndCluster(t *testing.T) {
	ns := namespace(t, "lint")
	shop := newApp(t, ns, "shop-svc", 1, "http")
	const dir, host = "testdata/lint/", "shop.lint.example.com"
	const size = "InvalidAnnotation metadata.annotations[nginx.ingress.kubernetes.io/proxy-body-size]: "
	noPort := "BackendNotFound spec.rules[0].http.paths[0].backend.service: service " + ns + "/shop-svc has no port web; requests get 503"
	noSvc := "BackendNotFound spec.rules[0].http.paths[0].backend.service: service " + ns + "/shop-svc does not exist; requests get 503"
	kube := "--kubeconfig=" + env.cp.Kubeconfig()

	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string // prefixes of the findings about shop, all of them
	}{
		// Offline, a file without Services has its references unchecked...
		{"offline bad annotation", []string{"-f", dir + "bad-annotation.yaml"}, 1, []string{"IngressRejected ", size}},
		{"offline bad port", []string{"-f", dir + "bad-port.yaml"}, 0, nil},
		{"offline fixed", []string{"-f", dir + "fixed.yaml"}, 0, nil},
		// ...unless asked, and then the Service is missing from the input.
		{"offline strict", []string{"--strict-refs", "-f", dir + "fixed.yaml"}, 1, []string{noSvc}},
		// With the cluster as the base, files replace its objects.
		{"cluster bad annotation", []string{kube, "--cluster", "-f", dir + "bad-annotation.yaml"}, 1, []string{"IngressRejected ", size}},
		{"cluster bad port", []string{kube, "--cluster", "-f", dir + "bad-port.yaml"}, 1, []string{noPort}},
		{"cluster fixed", []string{kube, "--cluster", "-f", dir + "fixed.yaml"}, 0, nil},
	} {
		res, code := lintRun(t, append([]string{"-n", ns}, tc.args...)...)
		got := findings(res, "shop")
		ok := code == tc.code && len(got) == len(tc.want)
		for _, w := range tc.want {
			ok = ok && hasPrefix(got, w)
		}
		if !ok {
			t.Errorf("%s: exit %d, findings %q; want exit %d, findings %q", tc.name, code, got, tc.code, tc.want)
		}
	}

	// The bad port applied: lint --cluster reads it back, and the
	// controller reports the same finding and answers 503.
	apply := func(file string) {
		t.Helper()
		objs, err := lint.Load([]string{dir + file}, ns, nil)
		if err != nil || len(objs.Ingresses) != 1 {
			t.Fatalf("load %s: %v", file, err)
		}
		want := objs.Ingresses[0]
		ings := env.client.NetworkingV1().Ingresses(ns)
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := ings.Get(context.Background(), want.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				createIngress(t, want)
				return nil
			}
			if err != nil {
				return err
			}
			cur.Annotations, cur.Spec = want.Annotations, want.Spec
			_, err = ings.Update(context.Background(), cur, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	apply("bad-port.yaml")
	if res, code := lintRun(t, kube, "-n", ns, "--cluster"); code != 1 || !slices.Equal(findings(res, "shop"), []string{noPort}) {
		t.Errorf("lint --cluster: exit %d, findings %q; want exit 1, %q", code, findings(res, "shop"), noPort)
	}
	eventWith(t, ns, "shop", "BackendNotFound: spec.rules[0].http.paths[0].backend.service: service "+ns+"/shop-svc has no port web")
	answers(t, host, "/", 503)

	apply("fixed.yaml")
	servedBy(t, host, "/", shop)
	if res, code := lintRun(t, kube, "-n", ns, "--cluster"); code != 0 || len(findings(res, "shop")) != 0 {
		t.Errorf("lint --cluster after the fix: exit %d, findings %q; want exit 0, none", code, findings(res, "shop"))
	}
}

func hasPrefix(list []string, prefix string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix })
}
