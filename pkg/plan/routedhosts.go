package plan

import "github.com/portico-ingress/portico/pkg/model"

// RoutedHosts is the view of the routed-hosts file (Options.RoutedHostsFile):
// each host the Lua router serves as the server block it stands for
// (Server). nginx does not load the file; it is for people who read
// nginx.conf to see how a host is served.
type RoutedHosts struct {
	// StatusPort serves the routes the router holds now.
	StatusPort int
	// Router is false when dynamic routing is off: every host has a
	// server block in nginx.conf.
	Router bool
	// Hosts are the routed hosts, in the model's order of servers (the
	// rules without a host first).
	Hosts []RoutedHost
	// Context and HSTS are what the routes' terms take from nginx.conf
	// and the routes document.
	Context TermsContext
	HSTS    string
}

// RoutedHost is a host the router serves: the key of its routes in
// Routes.Hosts, its server-alias names and its routes.
type RoutedHost struct {
	Host    string
	Aliases []string
	Routes  *HostRoutes
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

// RoutedHosts is the view of p's routed hosts.
func (p *Plan) RoutedHosts() *RoutedHosts {
	v := &RoutedHosts{StatusPort: p.HTTP.StatusPort, Router: p.Router != nil, Hosts: p.routed,
		Context: TermsContext{HTTPSPort: p.HTTP.HTTPSPort, AuthDir: p.HTTP.AuthDir, Router: p.Router}}
	if p.Model != nil {
		v.HSTS = p.Model.Global.HSTS
	}
	return v
}

// Server is the server block the routed host h stands for.
func (v *RoutedHosts) Server(h *RoutedHost) RoutedServer {
	name := serverName(h.Host)
	for _, a := range h.Aliases {
		name += " " + serverName(a)
	}
	hr := h.Routes
	s := RoutedServer{ServerName: name, Host: h.Host, Terms: hr.Terms(v.HSTS), Locations: make([]RoutedLocation, 0, len(hr.Routes))}
	for i := range hr.Routes {
		r := &hr.Routes[i]
		l := RoutedLocation{Match: r.LocationMatch(), Ingress: r.Ingress, IngressPath: r.IngressPath, Terms: r.Terms(v.Context)}
		if r.Redirect == nil {
			l.Backend = r.Backend
		}
		s.Locations = append(s.Locations, l)
	}
	return s
}

// recordRouted records that the router serves s with hr, for
// RoutedHosts.
func (p *Plan) recordRouted(s *model.Server, hr HostRoutes) {
	p.routed = append(p.routed, RoutedHost{Host: s.Host, Aliases: s.Aliases, Routes: &hr})
}
