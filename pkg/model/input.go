package model

import (
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Input is everything Build reads.
type Input struct {
	Ingresses      []*networkingv1.Ingress
	IngressClasses []*networkingv1.IngressClass
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	Secrets        []*corev1.Secret
	// ConfigMap is the controller's ConfigMap; nil means all defaults.
	ConfigMap *corev1.ConfigMap
	// ConfigMaps are those the controller's ConfigMap (add-headers,
	// proxy-set-headers) and annotations (custom-headers,
	// fastcgi-params-configmap, auth-proxy-set-headers) may name: the
	// watched namespaces' (Config.ConfigMapRefs says which were read).
	ConfigMaps []*corev1.ConfigMap
	// TCPServices and UDPServices are the ConfigMaps of
	// --tcp-services-configmap and --udp-services-configmap; nil: none.
	TCPServices, UDPServices *corev1.ConfigMap
	// Previous is the model of the last plan nginx took (nil for none):
	// a ConfigMap key whose value is now invalid keeps its value in
	// effect there (Config.ConfigMapValues) instead of its default.
	Previous *Config
	// Served is the version of each Ingress the last config nginx took
	// served: an Ingress whose latest version is refused keeps that one
	// serving (Config.ServedPrevious) when it is not refused itself.
	Served  map[IngressRef]*networkingv1.Ingress
	Options Options
	// Now is the time certificates are checked against.
	Now time.Time
	// LocalAddresses are the addresses of the host nginx runs on, which
	// bind-address may name; nil when unknown (not checked).
	LocalAddresses []netip.Addr
}

// Options are the controller's own settings that shape the model.
type Options struct {
	// IngressClass is the class name matched against the legacy
	// kubernetes.io/ingress.class annotation.
	IngressClass string
	// ControllerClass is matched against IngressClass spec.controller.
	ControllerClass string
	// WatchWithoutClass serves Ingresses that name no class at all.
	WatchWithoutClass bool
	// IngressClassByName also serves the IngressClass named IngressClass,
	// whatever its spec.controller (--ingress-class-by-name).
	IngressClassByName bool
	// DisableCatchAll ignores Ingresses with a spec.defaultBackend
	// (--disable-catch-all).
	DisableCatchAll bool
	// DefaultBackend, when set, serves requests that match no rule.
	DefaultBackend *ServiceRef
	// DefaultCertificate, when set, is the TLS Secret served when SNI
	// matches no host, instead of the controller's own.
	DefaultCertificate *SecretRef
	// ReportUnknownClass adds an UnknownIngressClass diagnostic for each
	// Ingress whose ingressClassName names no IngressClass (lint sets it;
	// the controller does not, as such Ingresses are not its own).
	ReportUnknownClass bool
	// SSLPassthrough serves the ssl-passthrough annotation
	// (--enable-ssl-passthrough).
	SSLPassthrough bool
	// ReservedPorts are the controller's own ports, with what each is
	// ("HTTP port"): stream services may not take them.
	ReservedPorts map[int]string
	// GeoIP2Databases are the GeoIP2 database files the operator mounts
	// (--geoip2-dir and --maxmind-edition-ids), read when the ConfigMap
	// sets use-geoip2 (Config.DataFiles).
	GeoIP2Databases []string
}

// SecretRef names a Secret.
type SecretRef struct {
	Namespace string
	Name      string
}

func (r SecretRef) String() string { return r.Namespace + "/" + r.Name }

// ServiceRef names a Service.
type ServiceRef struct {
	Namespace string
	Name      string
}

func (r ServiceRef) String() string { return r.Namespace + "/" + r.Name }
