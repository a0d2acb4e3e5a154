package diagnose

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/model/diag"
	"github.com/portico-ingress/portico/pkg/plan"
)

// State is the verdict on one hop.
type State string

const (
	OK   State = "ok"
	Warn State = "warn" // works, with a caveat
	Fail State = "fail" // the request breaks here
	Skip State = "skip" // not checked (not applicable, or an earlier hop broke)
)

// Hop names, in the order a request passes them.
const (
	HopClass     = "class"
	HopIngress   = "ingress"
	HopService   = "service"
	HopEndpoints = "endpoints"
	HopTLS       = "tls"
	HopNginx     = "nginx"
)

// Hop is the verdict on one step of the request's way.
type Hop struct {
	Name    string   `json:"name"`
	State   State    `json:"state"`
	Summary string   `json:"summary"`
	Details []string `json:"details,omitempty"`
	// Fix says what to do when State is Fail or Warn.
	Fix string `json:"fix,omitempty"`
}

// Report is the diagnosis of one request.
type Report struct {
	Host string `json:"host"`
	Path string `json:"path"`
	Hops []Hop  `json:"hops"`
	// Broken names the first hop in state Fail; "" when none failed.
	Broken string `json:"broken,omitempty"`
	// Fix is the Fix of the Broken hop.
	Fix string `json:"fix,omitempty"`
}

// OK reports whether no hop failed.
func (r *Report) OK() bool { return r.Broken == "" }

// Diagnose walks every hop of a request to host and path.
func Diagnose(s *Snapshot, host, path string) Report {
	if path == "" {
		path = "/"
	}
	cfg := s.build()
	// Which hosts have a server block is the plan's to say; the one it
	// makes without a previous plan has the same server blocks.
	p, _ := plan.Make(cfg, nil, plan.Options{}) // encoding the wire types cannot fail
	d := &diagnosis{s: s, cfg: cfg, plan: p, host: strings.ToLower(host), path: path}
	d.run()
	r := Report{Host: host, Path: path, Hops: d.hops}
	for _, h := range d.hops {
		if h.State == Fail {
			r.Broken, r.Fix = h.Name, h.Fix
			break
		}
	}
	return r
}

type diagnosis struct {
	s          *Snapshot
	cfg        *model.Config
	plan       *plan.Plan
	host, path string
	hops       []Hop

	srv *model.Server
	loc *model.Location
	be  *model.Backend
	svc *corev1.Service
	sp  corev1.ServicePort

	// stream is the TCP or UDP service DiagnoseStream diagnoses, by the
	// API objects (nil when none serves the port); streamName names it,
	// "tcp/5432".
	stream     *model.StreamService
	streamName string
}

func (d *diagnosis) add(h Hop) bool {
	d.hops = append(d.hops, h)
	return h.State != Fail
}

func (d *diagnosis) skip(names ...string) {
	for _, n := range names {
		d.hops = append(d.hops, Hop{Name: n, State: Skip, Summary: "not checked: an earlier hop is broken"})
	}
}

func (d *diagnosis) run() {
	d.srv, d.loc = d.cfg.Match(d.host, d.path)
	routed := d.loc != nil && d.loc.Backend != ""
	if !d.add(d.class()) && !routed {
		d.skip(HopIngress, HopService, HopEndpoints)
		d.add(d.tls())
		d.add(d.nginx())
		return
	}
	if !d.add(d.ingress()) {
		d.skip(HopService, HopEndpoints)
		d.add(d.tls())
		d.add(d.nginx())
		return
	}
	if !d.add(d.service()) {
		d.skip(HopEndpoints)
	} else {
		d.add(d.endpoints())
	}
	d.add(d.tls())
	d.add(d.nginx())
}

// candidates are the Ingresses with a rule for the host (or, when none,
// those with rules without host), whether or not the controller owns them.
func (d *diagnosis) candidates() []*networkingv1.Ingress {
	host := d.host
	if d.srv != nil && slices.Contains(d.srv.Aliases, host) {
		host = d.srv.Host // a server-alias name: its host's Ingresses
	}
	var named, anyHost []*networkingv1.Ingress
	for _, ing := range d.s.Ingresses {
		for _, r := range ing.Spec.Rules {
			if hostMatches(r.Host, host) {
				named = append(named, ing)
				break
			}
			if r.Host == "" {
				anyHost = append(anyHost, ing)
				break
			}
		}
	}
	out := named
	if len(out) == 0 {
		out = anyHost
	}
	slices.SortFunc(out, func(a, b *networkingv1.Ingress) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func hostMatches(rule, host string) bool {
	if rest, ok := strings.CutPrefix(rule, "*."); ok {
		label, hr, ok := strings.Cut(host, ".")
		return ok && label != "" && hr == rest
	}
	return rule != "" && rule == host
}

func (d *diagnosis) class() Hop {
	h := Hop{Name: HopClass}
	cands := d.candidates()
	if len(cands) == 0 {
		h.State, h.Summary = Skip, fmt.Sprintf("no Ingress has a rule for host %q", d.host)
		return h
	}
	opts := d.s.options()
	owned := 0
	for _, ing := range cands {
		ok, why := model.Ownership(opts, d.s.IngressClasses, ing)
		mark := "ours"
		if ok {
			owned++
		} else {
			mark = "not ours"
		}
		h.Details = append(h.Details, fmt.Sprintf("Ingress %s/%s: %s: %s", ing.Namespace, ing.Name, mark, why))
	}
	if owned == 0 {
		h.State = Fail
		h.Summary = fmt.Sprintf("no Ingress for host %q belongs to this controller (controller class %s)", d.host, opts.ControllerClass)
		h.Fix = fmt.Sprintf("set spec.ingressClassName to an IngressClass whose spec.controller is %s (kubectl get ingressclass)", opts.ControllerClass)
		return h
	}
	h.State = OK
	h.Summary = fmt.Sprintf("%d of %d Ingresses for host %q belong to this controller", owned, len(cands), d.host)
	return h
}

// diagsFor returns the model's diagnostics about an Ingress.
func (d *diagnosis) diagsFor(ns, name string) []diag.Diagnostic {
	var out []diag.Diagnostic
	for _, x := range d.cfg.Diagnostics {
		if x.Object.Kind == "Ingress" && x.Object.Namespace == ns && x.Object.Name == name {
			out = append(out, x)
		}
	}
	return out
}

func (d *diagnosis) ingress() Hop {
	h := Hop{Name: HopIngress}
	if d.srv == nil || d.loc == nil {
		h.State, h.Summary = Fail, "the controller has no server at all"
		return h
	}
	// Paths of this host that lost a conflict.
	for _, x := range d.cfg.Diagnostics {
		if x.Reason == "PathConflict" && strings.Contains(x.Message, fmt.Sprintf("on host %q", d.srv.Host)) {
			h.Details = append(h.Details, fmt.Sprintf("%s lost a conflict: %s", x.Object, x.Message))
		}
	}
	if d.loc.Ingress == (model.IngressRef{}) {
		var why []string
		for _, ing := range d.candidates() {
			for _, x := range d.diagsFor(ing.Namespace, ing.Name) {
				if x.Severity == diag.Error || x.Reason == "PathConflict" {
					why = append(why, fmt.Sprintf("Ingress %s/%s: %s", ing.Namespace, ing.Name, diagText(x)))
				}
			}
		}
		h.Details = append(h.Details, why...)
		if d.loc.Backend != "" {
			h.State = Warn
			h.Summary = fmt.Sprintf("no Ingress path matches %s%s; the default backend %s answers", d.host, d.path, d.loc.Backend)
			h.Fix = "add a path for it to an Ingress rule of this host"
			return h
		}
		h.State = Fail
		h.Summary = fmt.Sprintf("no Ingress path matches %s%s: nginx answers 404", d.host, d.path)
		h.Fix = "add a rule for this host and a path that covers the request (pathType Prefix or Exact)"
		if len(why) > 0 {
			h.Fix = "fix the refused Ingress above (kubectl describe ingress shows the same Warning Events)"
		}
		return h
	}
	ref := d.loc.Ingress
	h.State = OK
	server := d.srv.Host
	if server == "" {
		server = "*"
	}
	h.Summary = fmt.Sprintf("Ingress %s, host %s, %s", ref, server, d.ingressPath(ref))
	for _, x := range d.diagsFor(ref.Namespace, ref.Name) {
		if x.Reason != "PathConflict" && x.Reason != "BackendNotFound" && x.Reason != "InvalidTLSSecret" {
			h.Details = append(h.Details, diagText(x))
		}
	}
	h.Details = append(h.Details, accessNotes(d.cfg.Global.Policy, d.loc)...)
	if d.refused() {
		h.State = Fail
		h.Summary += ": the Ingress is refused, its paths answer 503"
		h.Fix = "fix the errors above (kubectl describe ingress -n " + ref.Namespace + " " + ref.Name + " shows the same Warning Events)"
	}
	return h
}

// refused reports whether the matched location is a refused Ingress's:
// its backend stands in for no Service (model refusal.go).
func (d *diagnosis) refused() bool {
	for _, b := range d.cfg.Backends {
		if b.Name == d.loc.Backend {
			return b.Refused
		}
	}
	return false
}

// ingressPath describes the Ingress path behind the matched location.
func (d *diagnosis) ingressPath(ref model.IngressRef) string {
	for _, ing := range d.s.Ingresses {
		if ing.Namespace != ref.Namespace || ing.Name != ref.Name {
			continue
		}
		for _, r := range ing.Spec.Rules {
			if r.Host != d.srv.Host || r.HTTP == nil {
				continue
			}
			for _, p := range r.HTTP.Paths {
				// The location's Ingress path is the path as written
				// (without a regex path's '$').
				if path, pt := model.IngressPathOf(p); strings.ReplaceAll(path, "$", "") == d.loc.IngressPath {
					return fmt.Sprintf("path %s (%s)", path, pt)
				}
			}
		}
	}
	return fmt.Sprintf("location %s", strings.TrimSpace(string(d.loc.Modifier)+" "+d.loc.Path))
}

func diagText(x diag.Diagnostic) string {
	if x.Field == "" {
		return fmt.Sprintf("%s: %s", x.Reason, x.Message)
	}
	return fmt.Sprintf("%s: %s: %s", x.Reason, x.Field, x.Message)
}

func (d *diagnosis) service() Hop {
	h := Hop{Name: HopService}
	for _, b := range d.cfg.Backends {
		if b.Name == d.loc.Backend {
			d.be = b
		}
	}
	if d.be == nil {
		h.State, h.Summary = Fail, fmt.Sprintf("backend %s is missing from the model", d.loc.Backend)
		return h
	}
	ref := d.be.Service
	for _, svc := range d.s.Services {
		if svc.Namespace == ref.Namespace && svc.Name == ref.Name {
			d.svc = svc
		}
	}
	if d.svc == nil {
		h.State = Fail
		h.Summary = fmt.Sprintf("Service %s does not exist: requests get 503", ref)
		h.Fix = fmt.Sprintf("create Service %s, or point the Ingress path's backend.service.name at an existing one (kubectl get svc -n %s)", ref, ref.Namespace)
		return h
	}
	if d.svc.Spec.Type == corev1.ServiceTypeExternalName {
		h.State = Fail
		h.Summary = fmt.Sprintf("Service %s is of type ExternalName, which Portico does not proxy to", ref)
		h.Fix = "use a Service with a selector or EndpointSlices"
		return h
	}
	var ports []string
	found := false
	n, numErr := strconv.Atoi(d.be.Port)
	for _, sp := range d.svc.Spec.Ports {
		ports = append(ports, portText(sp))
		if (numErr == nil && int(sp.Port) == n) || (numErr != nil && sp.Name == d.be.Port) {
			d.sp, found = sp, true
		}
	}
	if !found {
		kind := "number"
		if numErr != nil {
			kind = "name"
		}
		h.State = Fail
		h.Summary = fmt.Sprintf("Service %s has no port with %s %s (its ports: %s): requests get 503", ref, kind, d.be.Port, strings.Join(ports, ", "))
		h.Fix = fmt.Sprintf("set the Ingress backend.service.port to one of: %s", strings.Join(ports, ", "))
		return h
	}
	h.State = OK
	h.Summary = fmt.Sprintf("Service %s port %s", ref, portText(d.sp))
	return h
}

func portText(sp corev1.ServicePort) string {
	s := strconv.Itoa(int(sp.Port))
	if sp.Name != "" {
		s = sp.Name + "/" + s
	}
	return s + "→" + sp.TargetPort.String()
}

// endpointInfo is one address of the Service port.
type endpointInfo struct {
	addr        string
	ready       bool
	serving     bool
	terminating bool
	target      *corev1.ObjectReference
}

func (d *diagnosis) endpointInfos() []endpointInfo {
	var out []endpointInfo
	for _, es := range d.s.EndpointSlices {
		if es.Namespace != d.svc.Namespace || es.Labels[discoveryv1.LabelServiceName] != d.svc.Name {
			continue
		}
		if !slicePortMatches(es, d.sp.Name) {
			continue
		}
		for _, ep := range es.Endpoints {
			c := ep.Conditions
			e := endpointInfo{
				ready:       c.Ready == nil || *c.Ready,
				serving:     c.Serving != nil && *c.Serving,
				terminating: c.Terminating != nil && *c.Terminating,
				target:      ep.TargetRef,
			}
			for _, a := range ep.Addresses {
				e.addr = a
				out = append(out, e)
			}
		}
	}
	slices.SortFunc(out, func(a, b endpointInfo) int { return cmp.Compare(a.addr, b.addr) })
	return out
}

func slicePortMatches(es *discoveryv1.EndpointSlice, name string) bool {
	for _, p := range es.Ports {
		if cmp.Or(ptrString(p.Name), "") == name {
			return true
		}
	}
	return false
}

func ptrString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (d *diagnosis) endpoints() Hop {
	h := Hop{Name: HopEndpoints}
	eps := d.endpointInfos()
	var ready, notReady, terminating int
	var bad []endpointInfo
	for _, e := range eps {
		switch {
		case e.ready:
			ready++
		case e.terminating:
			terminating++
		default:
			notReady++
			bad = append(bad, e)
		}
	}
	h.Summary = fmt.Sprintf("Service %s port %s: %d ready, %d not ready, %d terminating", d.be.Service, d.be.Port, ready, notReady, terminating)
	var firstPod string
	for _, e := range bad {
		line, pod := d.podText(e)
		h.Details = append(h.Details, line...)
		if firstPod == "" {
			firstPod = pod
		}
	}
	// Requests fail when nothing is behind what nginx proxies to: the
	// endpoints, or with service-upstream the Pods behind the cluster IP.
	served, fails := len(d.be.Endpoints) > 0, ": requests get 503"
	if d.stream != nil {
		fails = ": " + dropped(d.stream)
	}
	if d.be.ViaService {
		if len(d.be.Endpoints) > 0 {
			e := d.be.Endpoints[0]
			h.Details = append(h.Details, fmt.Sprintf("service-upstream: nginx proxies to the cluster IP %s, kube-proxy (or a mesh) picks a ready Pod",
				net.JoinHostPort(e.Address, strconv.Itoa(int(e.Port)))))
		}
		served, fails = served && ready+terminating > 0, ": requests fail (502: nothing behind the cluster IP)"
	}
	switch {
	case served && notReady == 0:
		h.State = OK
	case served:
		h.State = Warn
		h.Fix = "some Pods are not ready; see why above"
	case len(eps) == 0:
		h.State = Fail
		h.Summary += fails
		h.Fix = fmt.Sprintf("no endpoints: check that the Service selector matches running Pods and that the port name %q exists in the Pods (kubectl get endpointslices -n %s -l %s=%s)",
			d.sp.Name, d.svc.Namespace, discoveryv1.LabelServiceName, d.svc.Name)
	default:
		h.State = Fail
		h.Summary += fails
		h.Fix = "no endpoint is ready: the Pods fail their readiness probe; fix the probe or the app so it answers on the probed port"
		if firstPod != "" {
			h.Fix = fmt.Sprintf("no endpoint is ready: %s fails its readiness probe; fix the probe or the app so it answers on the probed port (kubectl describe pod -n %s %s)",
				firstPod, d.svc.Namespace, strings.TrimPrefix(firstPod, "Pod "+d.svc.Namespace+"/"))
		}
	}
	return h
}

// podText explains a not-ready endpoint by its Pod's Ready condition and
// latest readiness Event; the second result names the Pod.
func (d *diagnosis) podText(e endpointInfo) ([]string, string) {
	if e.target == nil || e.target.Kind != "Pod" {
		return []string{fmt.Sprintf("%s: not ready (no Pod reference)", e.addr)}, ""
	}
	ns := cmp.Or(e.target.Namespace, d.svc.Namespace)
	name := "Pod " + ns + "/" + e.target.Name
	var pod *corev1.Pod
	for _, p := range d.s.Pods {
		if p.Namespace == ns && p.Name == e.target.Name {
			pod = p
		}
	}
	out := []string{}
	switch {
	case pod == nil:
		out = append(out, fmt.Sprintf("%s (%s): not ready; the Pod was not found", name, e.addr))
	default:
		cond := "no Ready condition"
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodReady {
				cond = "Ready=" + string(c.Status)
				if c.Reason != "" {
					cond += " (" + c.Reason + ")"
				}
				if !c.LastTransitionTime.IsZero() {
					cond += " since " + c.LastTransitionTime.UTC().Format(time.RFC3339)
				}
			}
		}
		out = append(out, fmt.Sprintf("%s (%s): phase %s, %s", name, e.addr, cmp.Or(string(pod.Status.Phase), "unknown"), cond))
	}
	if ev := d.lastProbeEvent(ns, e.target.Name); ev != nil {
		msg := fmt.Sprintf("  last %s event: %s: %s", ev.Type, ev.Reason, strings.TrimSpace(ev.Message))
		if ev.Count > 1 {
			msg += fmt.Sprintf(" (×%d)", ev.Count)
		}
		out = append(out, msg)
	}
	return out, name
}

// lastProbeEvent is the newest Warning Event about the Pod, preferring
// probe failures (reason Unhealthy).
func (d *diagnosis) lastProbeEvent(ns, pod string) *corev1.Event {
	var best *corev1.Event
	rank := func(e *corev1.Event) (int, time.Time) {
		r := 0
		if e.Reason == "Unhealthy" {
			r = 1
		}
		return r, eventTime(e)
	}
	for _, e := range d.s.Events {
		o := e.InvolvedObject
		if o.Kind != "Pod" || o.Name != pod || cmp.Or(o.Namespace, e.Namespace) != ns || e.Type != corev1.EventTypeWarning {
			continue
		}
		if best == nil {
			best = e
			continue
		}
		r1, t1 := rank(e)
		r0, t0 := rank(best)
		if r1 > r0 || (r1 == r0 && t1.After(t0)) {
			best = e
		}
	}
	return best
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// certWarnDays is how close to expiry a certificate gets a warning.
const certWarnDays = 14

func (d *diagnosis) tls() Hop {
	h := Hop{Name: HopTLS}
	if d.srv != nil && d.srv.Passthrough != "" {
		return d.passthroughTLS()
	}
	if d.srv == nil || d.srv.TLS == nil {
		h.State, h.Summary = Skip, "no spec.tls for this host: HTTP only (HTTPS gets the default certificate)"
		return h
	}
	name := d.srv.TLS.Certificate
	if name == "" {
		h.State = Fail
		h.Summary = fmt.Sprintf("host %s is listed under spec.tls but has no usable certificate: HTTPS gets the default certificate", d.srv.Host)
		for _, x := range d.cfg.Diagnostics {
			if x.Reason == "InvalidTLSSecret" && x.Object.Kind == "Ingress" {
				for _, ing := range d.candidates() {
					if ing.Namespace == x.Object.Namespace && ing.Name == x.Object.Name {
						h.Details = append(h.Details, fmt.Sprintf("%s: %s", x.Object, diagText(x)))
					}
				}
			}
		}
		h.Fix = "create the TLS Secret named in spec.tls[].secretName (kubectl create secret tls NAME --cert=... --key=... -n NAMESPACE) with a valid, unexpired key pair"
		return h
	}
	var cert *model.Certificate
	for _, c := range d.cfg.Certificates {
		if c.Name == name {
			cert = c
		}
	}
	if cert == nil {
		h.State, h.Summary = Fail, fmt.Sprintf("certificate %s is missing from the model", name)
		return h
	}
	left := cert.NotAfter.Sub(d.s.Now)
	h.Summary = fmt.Sprintf("Secret %s, expires %s (in %d days)", name, cert.NotAfter.UTC().Format(time.RFC3339), int(left.Hours()/24))
	if len(cert.DNSNames) > 0 {
		h.Summary += ", names " + strings.Join(cert.DNSNames, ",")
	}
	h.State = OK
	if left < certWarnDays*24*time.Hour {
		h.State, h.Fix = Warn, "renew the certificate soon"
	}
	if !certCovers(cert.DNSNames, d.host) && len(cert.DNSNames) > 0 {
		h.State = Warn
		h.Fix = fmt.Sprintf("the certificate does not name %s: clients will reject it", d.host)
	}
	return h
}

func certCovers(names []string, host string) bool {
	for _, n := range names {
		if strings.EqualFold(n, host) || hostMatches(strings.ToLower(n), host) {
			return true
		}
	}
	return false
}

func (d *diagnosis) nginx() Hop {
	h := Hop{Name: HopNginx}
	c := d.s.Controller
	if c == nil {
		h.State, h.Summary = Skip, "controller not asked (give --controller-url and --lua-url)"
		return h
	}
	var problems []string
	fix, drift := "", ""
	if st := c.Status; st != nil {
		n := st.Nginx
		rel := fmt.Sprintf("%d reloads, %d failed", n.Reloads, n.ReloadFailures)
		if !n.LastReload.IsZero() {
			rel += fmt.Sprintf("; last %s", n.LastReload.UTC().Format(time.RFC3339))
			if n.LastReason != "" {
				rel += " (" + n.LastReason + ")"
			}
		}
		h.Details = append(h.Details, "reloads: "+rel)
		if !st.Synced {
			problems = append(problems, "the controller has not completed a sync yet")
		}
		if n.LastError != "" {
			problems = append(problems, "the last reload failed: "+n.LastError)
			fix = "nginx keeps its previous config; read the controller log for the nginx -t error"
		}
		if st.LastSyncError != "" {
			problems = append(problems, "the last sync failed: "+st.LastSyncError)
			fix = cmp.Or(fix, "read the controller log; nginx keeps its last good config until a sync succeeds")
		}
		for _, r := range st.Refused {
			if d.serves(r) {
				problems = append(problems, fmt.Sprintf("nginx refused %s %s when it was pushed: %s", r.Kind, r.Name, r.Reason))
				fix = cmp.Or(fix, "nginx serves the version of it it held before, if any; the Ingress's NginxRefusedItem Event and the controller log say more")
			}
		}
		if dr := st.Drift; len(dr.Unrestored) > 0 {
			var files []string
			for _, e := range dr.Unrestored {
				files = append(files, fmt.Sprintf("%s %s (%s)", e.Path, e.Change, e.Error))
			}
			problems = append(problems, "files the controller writes differ from its version and could not be written back: "+strings.Join(files, "; ")+": the next reload or restart of nginx may load them")
			fix = cmp.Or(fix, "undo the change inside the Pod (or restart it); make changes through the Ingress objects and the ConfigMap")
		} else if dr.Edits > 0 {
			drift = fmt.Sprintf("%d change(s) the controller did not make to nginx.conf or the files beside it were undone; last: %s %s at %s",
				dr.Edits, dr.Last.Path, dr.Last.Change, dr.Last.At.UTC().Format(time.RFC3339))
			if dr.Last.Line > 0 {
				drift += fmt.Sprintf(" (from line %d)", dr.Last.Line)
			}
			h.Details = append(h.Details, "hand edits: "+drift)
		}
		if st.Model != nil && d.streamName != "" {
			problem, detail := d.streamDrift(st.Model)
			if problem != "" {
				problems = append(problems, problem)
				fix = cmp.Or(fix, "the controller has not caught up with the API (or runs with other flags); check its log and /status")
			} else if detail != "" {
				h.Details = append(h.Details, detail)
			}
		}
		if st.Model != nil && d.srv != nil && d.srv.Passthrough != "" {
			if rs, _ := st.Model.Match(d.host, d.path); rs == nil || rs.Passthrough != d.srv.Passthrough {
				problems = append(problems, fmt.Sprintf("the running controller does not pass %s's TLS connections through to %s", d.host, d.srv.Passthrough))
				fix = cmp.Or(fix, "the controller has not caught up with the API, or runs without --enable-ssl-passthrough; check its log and /status")
			}
		}
		if st.Model != nil && d.loc != nil {
			_, rl := st.Model.Match(d.host, d.path)
			if rl == nil || rl.Backend != d.loc.Backend {
				got := "nothing"
				if rl != nil {
					got = cmp.Or(rl.Backend, "404")
				}
				problems = append(problems, fmt.Sprintf("the running controller routes %s%s to %s, the API objects say %s", d.host, d.path, got, cmp.Or(d.loc.Backend, "404")))
				fix = cmp.Or(fix, "the controller has not caught up with the API (or runs with other options); check its log and /status")
			}
		}
	} else {
		h.Details = append(h.Details, "controller /status: "+c.StatusError)
	}
	if d.loc != nil && d.loc.Backend != "" {
		switch {
		case c.Lua == nil:
			h.Details = append(h.Details, "Lua backends: "+c.LuaError)
		default:
			lb := c.Lua.Find(d.loc.Backend)
			want := d.backendEndpoints()
			switch {
			case lb == nil:
				problems = append(problems, fmt.Sprintf("the Lua balancer does not hold backend %s (it holds %d backends): requests get 503", d.loc.Backend, len(c.Lua.Backends)))
				fix = cmp.Or(fix, "the endpoint push has not reached nginx: check the controller log for push errors and /status")
			case !sameEndpoints(lb.Endpoints, want):
				problems = append(problems, fmt.Sprintf("the Lua balancer holds %d endpoints for %s, the API says %d", len(lb.Endpoints), lb.Name, len(want)))
				fix = cmp.Or(fix, "the endpoint push has not reached nginx yet: retry in a few seconds, then check the controller log")
			default:
				h.Details = append(h.Details, fmt.Sprintf("Lua backend %s: %d endpoints (%s)", lb.Name, len(lb.Endpoints), lb.LoadBalance))
			}
		}
	}
	if d.luaRouted() && d.loc != nil {
		// No server block: the Lua router must hold the route.
		switch {
		case c.Routes == nil:
			h.Details = append(h.Details, "Lua routes: "+c.RoutesError)
		default:
			key, r, found := c.Routes.Match(d.host, d.path)
			got := "404"
			if r != nil && r.Backend != "" {
				got = r.Backend
			}
			if !found || got != cmp.Or(d.loc.Backend, "404") {
				problems = append(problems, fmt.Sprintf("the Lua router routes %s%s to %s, the API objects say %s", d.host, d.path, got, cmp.Or(d.loc.Backend, "404")))
				fix = cmp.Or(fix, "the routes push has not reached nginx yet: retry in a few seconds, then check the controller log for push errors")
			} else {
				line := fmt.Sprintf("Lua router: host %q, route none → 404", key)
				if r != nil {
					line = fmt.Sprintf("Lua router: host %q, route %s → %s%s", key, r.LocationMatch(), got, RouteNotes(r))
				}
				if root := c.Routes.Hosts[key].AppRoot; root != "" {
					line += fmt.Sprintf("; app-root: the host's \"/\" redirects (302) to %s first", root)
				}
				h.Details = append(h.Details, line)
			}
		}
	}
	if c.Status == nil && c.Lua == nil {
		h.State, h.Summary = Skip, "the controller did not answer"
		return h
	}
	if len(problems) > 0 {
		h.State, h.Summary, h.Fix = Fail, strings.Join(problems, "; "), fix
		return h
	}
	h.State, h.Summary = OK, "nginx runs the current config"
	if d.loc != nil && d.loc.Backend != "" && c.Lua != nil {
		h.Summary += " and holds backend " + d.loc.Backend
	}
	if d.luaRouted() && c.Routes != nil {
		h.Summary += "; the Lua router holds the route (no server block)"
	}
	if drift != "" {
		// Undone edits: whoever made them may wonder why they do nothing.
		h.State = Warn
		h.Summary += "; someone edited files the controller writes, and it undid the edits"
		h.Fix = "make the change through the Ingress objects (annotations) or the ConfigMap: the controller writes back its own nginx.conf and the files beside it"
	}
	return h
}

// serves reports whether the request diagnosed depends on item r of a
// push: its host's certificate, its backend or its host's routes.
func (d *diagnosis) serves(r plan.Refusal) bool {
	switch r.Kind {
	case "certificate":
		return d.srv != nil && d.srv.TLS != nil && d.srv.TLS.Certificate == r.Name
	case "backend":
		return d.loc != nil && d.loc.Backend == r.Name
	case "host":
		return d.luaRouted() && d.srv.Host == r.Name
	}
	return false
}

// luaRouted reports whether the Lua router serves the request's host: the
// plan gives it no server block of its own, or the catch-all server runs
// the router.
func (d *diagnosis) luaRouted() bool {
	if d.srv == nil || d.plan == nil {
		return false
	}
	for _, s := range d.plan.Servers {
		if s.Host == d.srv.Host {
			return s.Router != nil
		}
	}
	return true
}

// RouteNotes lists what a Lua route does besides picking its backend, in
// the words of plan.Route.Terms: "" for nothing, else "; " and the notes.
func RouteNotes(r *plan.Route) string {
	notes := plan.Notes(r.Terms(plan.TermsContext{}))
	if len(notes) == 0 {
		return ""
	}
	return "; " + strings.Join(notes, "; ")
}

func (d *diagnosis) backendEndpoints() []model.Endpoint {
	for _, b := range d.cfg.Backends {
		if b.Name == d.loc.Backend {
			return b.Endpoints
		}
	}
	return nil
}

// sameEndpoints reports whether nginx holds (a) the endpoints the model
// has (b).
func sameEndpoints(a []plan.Endpoint, b []model.Endpoint) bool {
	var ka, kb []string
	for _, e := range a {
		ka = append(ka, fmt.Sprintf("%s:%d", e.Address, e.Port))
	}
	for _, e := range b {
		kb = append(kb, fmt.Sprintf("%s:%d", e.Address, e.Port))
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}
