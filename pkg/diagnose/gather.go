package diagnose

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	"github.com/portico-ingress/portico/pkg/model/annotations"
	"github.com/portico-ingress/portico/pkg/statusport"
)

// GatherOptions say what Gather reads.
type GatherOptions struct {
	// Namespace limits namespaced objects; "" is all.
	Namespace string
	// ConfigMapNamespace/ConfigMapName name the controller's ConfigMap.
	ConfigMapNamespace, ConfigMapName string
	// TCPServices and UDPServices name the ConfigMaps of TCP and UDP
	// services, "namespace/name"; "" is none.
	TCPServices, UDPServices string
	// WithPods also lists Pods and Pod Warning Events (for diagnose).
	WithPods bool
	// AllSecrets lists every Secret, not only TLS ones (basic-auth and
	// CA Secrets are Opaque), as the controller watches them.
	AllSecrets bool
}

// Gather lists the objects a Snapshot holds. Options, Now and Controller
// are left to the caller.
func Gather(ctx context.Context, c kubernetes.Interface, o GatherOptions) (*Snapshot, error) {
	s := &Snapshot{}
	ns := o.Namespace
	lo := metav1.ListOptions{}
	ings, err := c.NetworkingV1().Ingresses(ns).List(ctx, lo)
	if err != nil {
		return nil, fmt.Errorf("list Ingresses: %w", err)
	}
	for i := range ings.Items {
		s.Ingresses = append(s.Ingresses, &ings.Items[i])
	}
	classes, err := c.NetworkingV1().IngressClasses().List(ctx, lo)
	if err != nil {
		return nil, fmt.Errorf("list IngressClasses: %w", err)
	}
	for i := range classes.Items {
		s.IngressClasses = append(s.IngressClasses, &classes.Items[i])
	}
	svcs, err := c.CoreV1().Services(ns).List(ctx, lo)
	if err != nil {
		return nil, fmt.Errorf("list Services: %w", err)
	}
	for i := range svcs.Items {
		s.Services = append(s.Services, &svcs.Items[i])
	}
	eps, err := c.DiscoveryV1().EndpointSlices(ns).List(ctx, lo)
	if err != nil {
		return nil, fmt.Errorf("list EndpointSlices: %w", err)
	}
	for i := range eps.Items {
		s.EndpointSlices = append(s.EndpointSlices, &eps.Items[i])
	}
	// Unless asked, only TLS Secrets: the field selector keeps the rest off
	// the wire.
	so := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("type", string(corev1.SecretTypeTLS)).String()}
	if o.AllSecrets {
		so = lo
	}
	secrets, err := c.CoreV1().Secrets(ns).List(ctx, so)
	if err != nil {
		return nil, fmt.Errorf("list Secrets: %w", err)
	}
	for i := range secrets.Items {
		s.Secrets = append(s.Secrets, &secrets.Items[i])
	}
	if err := s.gatherReferencedConfigMaps(ctx, c); err != nil {
		return nil, err
	}
	if o.ConfigMapName != "" {
		cm, err := c.CoreV1().ConfigMaps(o.ConfigMapNamespace).Get(ctx, o.ConfigMapName, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("get ConfigMap %s/%s: %w", o.ConfigMapNamespace, o.ConfigMapName, err)
		}
		s.ConfigMap = cm
	}
	for _, l := range []struct {
		ref string
		to  **corev1.ConfigMap
	}{{o.TCPServices, &s.TCPServices}, {o.UDPServices, &s.UDPServices}} {
		ns, name, _ := strings.Cut(l.ref, "/")
		if name == "" {
			continue
		}
		cm, err := c.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("get ConfigMap %s: %w", l.ref, err)
		}
		if err == nil {
			*l.to = cm
		}
	}
	if !o.WithPods {
		return s, nil
	}
	pods, err := c.CoreV1().Pods(ns).List(ctx, lo)
	if err != nil {
		return nil, fmt.Errorf("list Pods: %w", err)
	}
	for i := range pods.Items {
		s.Pods = append(s.Pods, &pods.Items[i])
	}
	evs, err := c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.Set{
		"involvedObject.kind": "Pod", "type": corev1.EventTypeWarning}.String()})
	if err != nil {
		return nil, fmt.Errorf("list Events: %w", err)
	}
	for i := range evs.Items {
		s.Events = append(s.Events, &evs.Items[i])
	}
	return s, nil
}

// gatherReferencedConfigMaps gets the ConfigMaps the Ingresses'
// annotations name (custom-headers, fastcgi-params-configmap,
// auth-proxy-set-headers), as their parsers read them;
// one that does not exist is left out, as the controller sees it.
func (s *Snapshot) gatherReferencedConfigMaps(ctx context.Context, c kubernetes.Interface) error {
	seen := map[string]bool{}
	for _, ing := range s.Ingresses {
		set, _ := annotations.Parse(ing.Annotations)
		refs := []annotations.ObjectRef{set.CustomHeaders, set.FastCGI.Params}
		if set.ExternalAuth != nil && set.ExternalAuth.ProxyHeaders != nil {
			refs = append(refs, *set.ExternalAuth.ProxyHeaders)
		}
		for _, ref := range refs {
			ns := cmp.Or(ref.Namespace, ing.Namespace)
			if ref.IsZero() || seen[ns+"/"+ref.Name] {
				continue
			}
			seen[ns+"/"+ref.Name] = true
			cm, err := c.CoreV1().ConfigMaps(ns).Get(ctx, ref.Name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				return fmt.Errorf("get ConfigMap %s/%s: %w", ns, ref.Name, err)
			default:
				s.ConfigMaps = append(s.ConfigMaps, cm)
			}
		}
	}
	return nil
}

// controllerTimeout bounds each request to the controller's ports.
const controllerTimeout = 10 * time.Second

// FetchStatus reads GET /status?model=true from the controller's healthz
// port.
func FetchStatus(ctx context.Context, base string) (*Status, error) {
	var s Status
	if err := statusport.New(base, controllerTimeout).GetJSON(ctx, "/status?model=true", &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// FetchController asks the controller's healthz port (statusBase) and
// nginx's status port (luaBase); an empty base is not asked. Errors are
// recorded in the result, not returned.
func FetchController(ctx context.Context, statusBase, luaBase string) *Controller {
	c := &Controller{}
	if statusBase != "" {
		st, err := FetchStatus(ctx, statusBase)
		if err != nil {
			c.StatusError = err.Error()
		}
		c.Status = st
	} else {
		c.StatusError = "not asked"
	}
	if luaBase != "" {
		lua := statusport.New(luaBase, controllerTimeout)
		l, err := lua.Backends(ctx)
		if err != nil {
			c.LuaError = err.Error()
		}
		c.Lua = l
		r, err := lua.Routes(ctx)
		if err != nil {
			c.RoutesError = err.Error()
		}
		c.Routes = r
	} else {
		c.LuaError, c.RoutesError = "not asked", "not asked"
	}
	return c
}
