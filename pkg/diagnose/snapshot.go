package diagnose

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/portico-ingress/portico/pkg/apply"
	"github.com/portico-ingress/portico/pkg/model"
	"github.com/portico-ingress/portico/pkg/plan"
)

// Snapshot is everything Diagnose reads: the model's input as the
// controller would build it (with no previous model; Options are the
// controller's, Controller.Status.Options wins when set), and what
// explains the answer beside it.
type Snapshot struct {
	model.Input
	// Pods and Events explain not-ready endpoints; they may be partial.
	Pods   []*corev1.Pod
	Events []*corev1.Event
	// Controller is what the running controller reported; nil when it was
	// not asked.
	Controller *Controller
}

// Controller is the running controller's state, as read over HTTP.
type Controller struct {
	// Status is GET /status on the healthz port; nil when StatusError says
	// why it could not be read.
	Status      *Status `json:"status,omitempty"`
	StatusError string  `json:"statusError,omitempty"`
	// Lua is GET /configuration/backends on the status port; nil when
	// LuaError says why it could not be read.
	Lua      *plan.Backends `json:"lua,omitempty"`
	LuaError string         `json:"luaError,omitempty"`
	// Routes is GET /configuration/routes on the status port; nil when
	// RoutesError says why it could not be read.
	Routes      *plan.Routes `json:"routes,omitempty"`
	RoutesError string       `json:"routesError,omitempty"`
}

// Status is the controller's /status document.
type Status struct {
	Synced        bool       `json:"synced"`
	LastSyncError string     `json:"lastSyncError,omitempty"`
	Nginx         NginxStats `json:"nginx"`
	// Refused are the items nginx refused of the last pushes.
	Refused []plan.Refusal `json:"refused,omitempty"`
	// Drift is what the controller saw of changes it did not make to the
	// files it writes (hand edits of nginx.conf).
	Drift   Drift          `json:"drift"`
	Options *model.Options `json:"options,omitempty"`
	// TCPServices and UDPServices name the ConfigMaps of TCP and UDP
	// services, "namespace/name".
	TCPServices string        `json:"tcpServices,omitempty"`
	UDPServices string        `json:"udpServices,omitempty"`
	Model       *model.Config `json:"model,omitempty"`
}

// NginxStats are the reload counters of /status (its "nginx" member, as
// pkg/apply keeps them) that the nginx hop reads.
type NginxStats struct {
	Reloads        int       `json:"reloads"`
	ReloadFailures int       `json:"reloadFailures"`
	LastReason     string    `json:"lastReloadReason,omitempty"`
	LastError      string    `json:"lastReloadError,omitempty"`
	LastReload     time.Time `json:"lastReload,omitzero"`
}

// Drift is /status's "drift" member, as pkg/apply's OwnedFiles reports
// it: the changes the controller did not make to files it writes.
type Drift = apply.Drift

// DriftEvent is one such change.
type DriftEvent = apply.DriftEvent

// options are the controller options in effect.
func (s *Snapshot) options() model.Options {
	if s.Controller != nil && s.Controller.Status != nil && s.Controller.Status.Options != nil {
		return *s.Controller.Status.Options
	}
	return s.Options
}

// build runs the controller's model on the snapshot.
func (s *Snapshot) build() *model.Config {
	in := s.Input
	in.Options = s.options()
	return model.Build(in)
}
