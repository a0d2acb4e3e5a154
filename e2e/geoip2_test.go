package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portico-ingress/portico/hack/echoserver/echo"
)

// dataFilesStatus is the dataFiles part of /status.
type dataFilesStatus struct {
	DataFiles []struct {
		Path    string `json:"path"`
		Copy    string `json:"copy"`
		Current bool   `json:"current"`
		Problem string `json:"problem"`
	} `json:"dataFiles"`
}

// A replaced data file is applied, or refused with the last good kept:
// a controller with use-geoip2 reads the GeoLite2-City database the
// operator mounts (a MaxMind DB made here, which maps a network
// namespace's address to a country); a request from that namespace
// reaches the backend with the country of $geoip2_city_country_code, and
// the access log with it ($geoip2_asn, of no database here, empty). The
// database replaced by another is checked by nginx -t and applied with
// one reload; replaced by garbage, nginx refuses it and keeps reading the
// last good one, which /status and a Warning log say; a good one again is
// applied and the problem is gone.
func TestDataFileReplacedAppliedOrLastGoodKept(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, "geo")
	a := newApp(t, ns, "a", 1, "")
	client, err := env.net.AddHost("geo-client")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	clientNet := netip.PrefixFrom(client.Addr(), 32)
	db := func(code, country string) []byte {
		return writeMMDB(t, "GeoLite2-City", mmdbNetwork{clientNet, cityRecord(code, country, "Capital")})
	}
	geoDir := t.TempDir()
	file := filepath.Join(geoDir, "GeoLite2-City.mmdb")
	// As a Secret or ConfigMap volume swaps its files: a new file renamed
	// over the old.
	replace := func(b []byte) {
		t.Helper()
		tmp := file + ".new"
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}
	replace(db("NL", "Netherlands"))

	if _, err := env.client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "geo-config"},
		Data: map[string]string{"use-geoip2": "true", "allow-snippet-annotations": "true", "annotations-risk-level": "Critical",
			// $geoip2_asn: no GeoLite2-ASN database here, so it is empty.
			"log-format-upstream": "geoip2-log $remote_addr $geoip2_city_country_code $geoip2_city [$geoip2_asn]"}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := startPortico(env.binary, env.cp.Kubeconfig(), t.TempDir(), "--watch-namespace="+ns, "--update-status=false",
		"--configmap="+ns+"/geo-config", "--geoip2-dir="+geoDir, "--maxmind-edition-ids=GeoLite2-City")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	createIngress(t, newIngress(ns, "geo", map[string]string{
		ann + "configuration-snippet": "proxy_set_header X-Geo-Country $geoip2_city_country_code; proxy_set_header X-Geo-Name $geoip2_city_country_name;"},
		hostRule("geo.example.com", prefixPath("/", "a"))))

	// country asks from the client's namespace and returns the country
	// headers the backend saw.
	country := func() (string, error) {
		url := fmt.Sprintf("http://%s:%d/", env.net.Gateway(), p.httpPort)
		out, err := client.Command("curl", "-s", "--max-time", "5", "-H", "Host: geo.example.com", url).Output()
		if err != nil {
			return "", fmt.Errorf("curl from the client's namespace: %v", err)
		}
		var r echo.Response
		if err := json.Unmarshal(out, &r); err != nil || r.Service != a.name {
			return "", fmt.Errorf("not the backend's answer: %s", short(string(out)))
		}
		return strings.Join(r.Headers["X-Geo-Country"], ",") + "/" + strings.Join(r.Headers["X-Geo-Name"], ","), nil
	}
	sees := func(want string) {
		t.Helper()
		eventually(t, "the backend sees "+want, func() error {
			got, err := country()
			if err == nil && got != want {
				err = fmt.Errorf("it sees %q", got)
			}
			return err
		})
	}
	dataFile := func(check func(current bool, problem string) error) {
		t.Helper()
		eventually(t, "/status dataFiles", func() error {
			code, body, err := plainGet(fmt.Sprintf("http://127.0.0.1:%d/status", p.healthzPort))
			if err != nil || code != 200 {
				return fmt.Errorf("/status: %d %v", code, err)
			}
			var st dataFilesStatus
			if err := json.Unmarshal([]byte(body), &st); err != nil {
				return err
			}
			if len(st.DataFiles) != 1 || st.DataFiles[0].Path != file || st.DataFiles[0].Copy == "" {
				return fmt.Errorf("dataFiles %+v: want %s with a copy", st.DataFiles, file)
			}
			return check(st.DataFiles[0].Current, st.DataFiles[0].Problem)
		})
	}
	current := func(current bool, problem string) error {
		if !current || problem != "" {
			return fmt.Errorf("current %v, problem %q: want the file's content in use", current, problem)
		}
		return nil
	}
	sees("NL/Netherlands")
	dataFile(current)
	eventually(t, "the access log names the country", func() error {
		log, _ := os.ReadFile(p.logPath)
		if want := fmt.Sprintf("geoip2-log %s NL Capital []", client.Addr()); !strings.Contains(string(log), want) {
			i := strings.LastIndex(string(log), "geoip2-log")
			return fmt.Errorf("no %q in the access log (last: %q)", want, string(log)[max(i, 0):min(max(i, 0)+80, len(log))])
		}
		return nil
	})

	before, err := p.status()
	if err != nil {
		t.Fatal(err)
	}
	replace(db("JP", "Japan"))
	sees("JP/Japan")
	dataFile(current)
	after, err := p.status()
	if err != nil {
		t.Fatal(err)
	}
	if n := after.Nginx.Reloads - before.Nginx.Reloads; n != 1 {
		t.Errorf("the replaced database took %d reloads, want 1", n)
	}

	replace([]byte("not a MaxMind DB\n"))
	dataFile(func(current bool, problem string) error {
		if current || !strings.Contains(problem, "nginx refused the version on disk") || !strings.Contains(problem, "MMDB_open") {
			return fmt.Errorf("current %v, problem %q: want nginx's refusal of the garbage", current, problem)
		}
		return nil
	})
	if got, err := country(); err != nil || got != "JP/Japan" {
		t.Errorf("after garbage: the backend sees %q (%v), want the last good database's JP/Japan", got, err)
	}
	if log, _ := os.ReadFile(p.logPath); !strings.Contains(string(log), "nginx refused the new version of a data file") {
		t.Error("no Warning log of the refused database")
	}

	replace(db("NL", "Netherlands"))
	sees("NL/Netherlands")
	dataFile(current)
}
