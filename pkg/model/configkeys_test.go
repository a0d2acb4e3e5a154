package model

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-ingress/portico/pkg/model/annotations"
)

// The registry has one entry per key ingress-nginx v1.15.1 documents, and
// otherwise only Portico's own keys.
func TestConfigKeysCoverIngressNginx(t *testing.T) {
	b, err := os.ReadFile("testdata/ingress-nginx-configmap-keys.txt")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			want = append(want, l)
		}
	}
	slices.Sort(want)
	var got []string
	for _, k := range ConfigKeys() {
		if !k.Own && !k.Gone {
			got = append(got, k.Name)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ConfigMap keys (-ingress-nginx +registry):\n%s", diff)
	}
}

// Each entry is complete and the registry is sorted, so docs/configmap.md
// is too and a new key has one place.
func TestConfigKeysAreComplete(t *testing.T) {
	if !slices.IsSortedFunc(configKeys, func(a, b ConfigKey) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("configKeys is not sorted by name")
	}
	for _, k := range configKeys {
		if k.Meaning == "" || strings.ContainsAny(k.Meaning+k.Differs, "\n\r") {
			t.Errorf("%s: want a one-line meaning", k.Name)
		}
		switch k.Status {
		case annotations.Full, annotations.Partly:
			if k.parse == nil {
				t.Errorf("%s is supported but has no parser", k.Name)
			}
			if (k.Status == annotations.Partly) != (k.Differs != "") {
				t.Errorf("%s: a partly supported key, and only one, says how it differs", k.Name)
			}
		default:
			if k.parse != nil || k.Differs == "" || k.Own {
				t.Errorf("%s is not supported: want no parser and a reason", k.Name)
			}
		}
	}
}

// The documented default of a supported key is what an absent key means.
func TestConfigKeyDefaultsAreTheDefaults(t *testing.T) {
	for _, k := range configKeys {
		if !k.Supported() || k.Default == "" || strings.HasPrefix(k.Default, "(") {
			continue
		}
		g, _, ds := parseConfigMapKeeping(configMap(map[string]string{k.Name: k.Default}), nil, configRefs{})
		if len(ds) != 0 {
			t.Errorf("%s: default %q: %v", k.Name, k.Default, ds)
			continue
		}
		if diff := cmp.Diff(defaultGlobal, g); diff != "" {
			t.Errorf("%s: %q is not the default (-default +got):\n%s", k.Name, k.Default, diff)
		}
	}
}

// A key Portico does not support is reported with its reason; an unknown
// key without one.
func TestUnsupportedOptionSaysWhy(t *testing.T) {
	_, _, ds := parseConfigMapKeeping(configMap(map[string]string{"zipkin-collector-host": "zipkin", "no-such-key": "1"}), nil, configRefs{})
	k, _ := LookupConfigKey("zipkin-collector-host")
	want := map[string]string{
		"data[no-such-key]":           "option is not supported by Portico and is ignored",
		"data[zipkin-collector-host]": "option is not supported by Portico and is ignored: " + k.Differs,
	}
	if len(ds) != len(want) {
		t.Fatalf("diagnostics %v, want %d", ds, len(want))
	}
	for _, d := range ds {
		if d.Reason != "UnsupportedOption" || d.Message != want[d.Field] {
			t.Errorf("%s: %s %q, want UnsupportedOption %q", d.Field, d.Reason, d.Message, want[d.Field])
		}
	}
}
