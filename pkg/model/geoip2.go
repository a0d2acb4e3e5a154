package model

// GeoIP2Var is a variable a GeoIP2 database sets: Name without '$', Path
// the data path of its value, as ingress-nginx names them.
type GeoIP2Var struct {
	Name, Path string
}

// GeoIP2Variables are ingress-nginx's variables of each MaxMind edition
// (use-geoip2); an edition it does not list has none.
var GeoIP2Variables = func() map[string][]GeoIP2Var {
	country := geoIP2Vars("country_code", "country iso_code", "country_name", "country names en", "country_geoname_id", "country geoname_id",
		"continent_code", "continent code", "continent_name", "continent names en", "continent_geoname_id", "continent geoname_id")
	city := geoIP2Vars("city_country_code", "country iso_code", "city_country_name", "country names en",
		"city_country_geoname_id", "country geoname_id", "city", "city names en", "city_geoname_id", "city geoname_id",
		"postal_code", "postal code", "dma_code", "location metro_code", "latitude", "location latitude",
		"longitude", "location longitude", "time_zone", "location time_zone", "region_code", "subdivisions 0 iso_code",
		"region_name", "subdivisions 0 names en", "region_geoname_id", "subdivisions 0 geoname_id",
		"subregion_code", "subdivisions 1 iso_code", "subregion_name", "subdivisions 1 names en",
		"subregion_geoname_id", "subdivisions 1 geoname_id", "city_continent_code", "continent code",
		"city_continent_name", "continent names en")
	asn := geoIP2Vars("asn", "autonomous_system_number", "org", "autonomous_system_organization")
	return map[string][]GeoIP2Var{
		"GeoLite2-Country": country, "GeoIP2-Country": country,
		"GeoLite2-City": city, "GeoIP2-City": city,
		"GeoLite2-ASN": asn, "GeoIP2-ASN": asn,
		"GeoIP2-ISP":             geoIP2Vars("isp", "isp", "isp_org", "organization", "asn", "default=0 autonomous_system_number"),
		"GeoIP2-Connection-Type": geoIP2Vars("connection_type", "connection_type"),
		"GeoIP2-Anonymous-IP": geoIP2Vars("is_anon", "is_anonymous", "is_anonymous", "default=0 is_anonymous",
			"is_anonymous_vpn", "default=0 is_anonymous_vpn", "is_hosting_provider", "default=0 is_hosting_provider",
			"is_public_proxy", "default=0 is_public_proxy", "is_tor_exit_node", "default=0 is_tor_exit_node"),
	}
}()

func geoIP2Vars(pairs ...string) []GeoIP2Var {
	out := make([]GeoIP2Var, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, GeoIP2Var{Name: "geoip2_" + pairs[i], Path: pairs[i+1]})
	}
	return out
}

// geoIP2Variable holds the names of GeoIP2Variables: a log format may
// name them (nginx.conf sets those no database sets empty).
var geoIP2Variable = func() map[string]bool {
	m := map[string]bool{}
	for _, vs := range GeoIP2Variables {
		for _, v := range vs {
			m[v.Name] = true
		}
	}
	return m
}()
