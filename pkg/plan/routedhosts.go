package plan

import "github.com/portico-ingress/portico/pkg/model"

// RoutedHosts is the view of the routed-hosts file (Options.RoutedHostsFile):
// each host the Lua router serves as the server block it stands for.
// nginx does not load the file; it is for people who read nginx.conf to
// see how a host is served.
type RoutedHosts struct {
	// StatusPort serves the routes the router holds now.
	StatusPort int
	// Router is false when dynamic routing is off: every host has a
	// server block in nginx.conf.
	Router  bool
	Servers []RoutedServer
}

// RoutedServer is a routed host, its server-alias names and its routes.
type RoutedServer struct {
	// ServerName is the server_name arguments: the host's, as a server
	// block would have it ("_" for the rules without a host), and its
	// aliases.
	ServerName string
	// Host is the key of its routes in /configuration/routes.
	Host  string
	Terms []RouteTerm
	// Locations are the routes, in the router's order of the server
	// block's locations (the model's).
	Locations []RoutedLocation
}

// RoutedLocation is a route as the location it stands for.
type RoutedLocation struct {
	// Match is the location's modifier and path (Route.LocationMatch).
	Match string
	// Ingress and IngressPath are where it comes from ("" for the
	// default backend's).
	Ingress, IngressPath string
	// Backend is the backend ("namespace/service:port") whose endpoint
	// the Lua balancer picks; "" when the route does not proxy.
	Backend string
	Terms   []RouteTerm
}

// routedHost is a host the router serves, recorded by serve for
// RoutedHosts: its routes are those of the Lua document.
type routedHost struct {
	host    string
	aliases []string
	routes  HostRoutes
}

// RoutedHosts is the view of p's routed hosts, in the model's order of
// servers (the rules without a host first).
func (p *Plan) RoutedHosts() *RoutedHosts {
	v := &RoutedHosts{StatusPort: p.HTTP.StatusPort, Router: p.Router != nil}
	c := TermsContext{HTTPSPortSuffix: p.HTTP.HTTPSPortSuffix, AuthDir: p.HTTP.AuthDir, Router: p.Router}
	hsts := ""
	if p.Model != nil {
		hsts = p.Model.Global.HSTS
	}
	for _, h := range p.routed {
		v.Servers = append(v.Servers, RoutedServerOf(h.host, h.aliases, &h.routes, hsts, c))
	}
	return v
}

// RoutedServerOf is the server block the routes hr of host (a key of
// Routes.Hosts) and its aliases stand for, with c from nginx.conf.
func RoutedServerOf(host string, aliases []string, hr *HostRoutes, hsts string, c TermsContext) RoutedServer {
	name := serverName(host)
	for _, a := range aliases {
		name += " " + serverName(a)
	}
	s := RoutedServer{ServerName: name, Host: host, Terms: hr.Terms(hsts), Locations: make([]RoutedLocation, 0, len(hr.Routes))}
	for i := range hr.Routes {
		r := &hr.Routes[i]
		l := RoutedLocation{Match: r.LocationMatch(), Ingress: r.Ingress, IngressPath: r.IngressPath, Terms: r.Terms(c)}
		if r.Redirect == nil {
			l.Backend = r.Backend
		}
		s.Locations = append(s.Locations, l)
	}
	return s
}

// recordRouted records that the router serves s with hr.
func (p *Plan) recordRouted(s *model.Server, hr HostRoutes) {
	p.routed = append(p.routed, routedHost{host: s.Host, aliases: s.Aliases, routes: hr})
}
