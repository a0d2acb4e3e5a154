package plan

import "testing"

// A data file is named by its copy, never by the path the operator
// configured; one without a copy gives "", so its feature is left out.
func TestDataFile(t *testing.T) {
	d := HTTP{Options: Options{DataFiles: map[string]string{"/etc/geoip/City.mmdb": "/etc/nginx/run/data/0011-City.mmdb"}}}
	if got := d.DataFile("/etc/geoip/City.mmdb"); got != "/etc/nginx/run/data/0011-City.mmdb" {
		t.Fatalf("DataFile = %q, want the copy", got)
	}
	if got := d.DataFile("/etc/geoip/ASN.mmdb"); got != "" {
		t.Fatalf("DataFile of a file without a copy = %q, want \"\"", got)
	}
}
