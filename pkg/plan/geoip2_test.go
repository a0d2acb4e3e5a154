package plan

import (
	"testing"

	"github.com/portico-ingress/portico/pkg/model"
)

// Each database with a copy sets ingress-nginx's variables of its edition
// from the copy; one without a copy sets them empty; a variable two
// editions define is the first one's.
func TestGeoIP2Databases(t *testing.T) {
	m := &model.Config{Global: model.Global{UseGeoIP2: true},
		DataFiles: []string{"/geo/GeoIP2-ISP.mmdb", "/geo/GeoLite2-ASN.mmdb", "/geo/GeoLite2-City.mmdb"}}
	dbs := geoIP2Of(m, Options{DataFiles: map[string]string{"/geo/GeoLite2-City.mmdb": "/run/data/01-GeoLite2-City.mmdb",
		"/geo/GeoLite2-ASN.mmdb": "/run/data/02-GeoLite2-ASN.mmdb"}})
	if len(dbs) != 3 || dbs[0].File != "" || dbs[1].File != "/run/data/02-GeoLite2-ASN.mmdb" || dbs[2].File != "/run/data/01-GeoLite2-City.mmdb" {
		t.Fatalf("databases %+v", dbs)
	}
	if v := dbs[2].Vars[0]; v != (model.GeoIP2Var{Name: "geoip2_city_country_code", Path: "country iso_code"}) {
		t.Errorf("the city edition's first variable: %+v", v)
	}
	for _, v := range dbs[1].Vars {
		if v.Name == "geoip2_asn" {
			t.Errorf("ASN sets $geoip2_asn again after ISP")
		}
	}
	if m.Global.UseGeoIP2 = false; geoIP2Of(m, Options{}) != nil {
		t.Error("databases without use-geoip2")
	}
	// A log format made for ingress-nginx names variables no database
	// sets: they are set empty.
	m.Global.AccessLog, m.Global.LogFormat = true, "$remote_addr $geoip2_city_country_code ${geoip2_asn}"
	if dbs := geoIP2Of(m, Options{}); len(dbs) != 1 || dbs[0].File != "" || len(dbs[0].Vars) != 2 || dbs[0].Vars[1].Name != "geoip2_asn" {
		t.Errorf("a format's variables without databases: %+v", dbs)
	}
}
