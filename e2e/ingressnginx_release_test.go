package e2e

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// What a release named "ingress-nginx" of ingress-nginx's Helm chart 4.15.1
// (controller v1.15.1) installs for the controller, written down here as
// facts read from the chart (charts/ingress-nginx in kubernetes/ingress-nginx
// at helm-chart-4.15.1): the objects a user's release holds, for the values
// TestIngressNginxChart tries. The admission Jobs that make the webhook's
// certificate and the default backend's own Deployment are left out (the
// test stands in for them).
const (
	inRelease       = "ingress-nginx"                      // the release, ServiceAccount, (Cluster)Role(Binding) names
	inController    = "ingress-nginx-controller"           // Deployment, Service, ConfigMap
	inAdmission     = "ingress-nginx-controller-admission" // the webhook's Service
	inWebhookName   = "ingress-nginx-admission"            // ValidatingWebhookConfiguration and the certificate's Secret
	inElectionID    = "ingress-nginx-leader"
	inDefaultBE     = "ingress-nginx-defaultbackend"
	inControllerCls = "k8s.io/ingress-nginx"
	inWebhookPath   = "/networking/v1/ingresses"
	inCertDir       = "/usr/local/certificates/"
)

// ingressNginxValues are the chart values the option sets change; the zero
// value is the chart's defaults.
type ingressNginxValues struct {
	defaultBackend           bool              // defaultBackend.enabled
	healthCheckPath          string            // controller.healthCheckPath; "" is its default /healthz
	healthCheckHost          string            // controller.healthCheckHost
	electionTTL              string            // controller.electionTTL
	metrics                  bool              // controller.metrics.enabled
	scopeNamespace           string            // controller.scope.enabled true with controller.scope.namespace
	namespaceSelector        string            // controller.scope.namespaceSelector
	ingressClassByName       bool              // controller.ingressClassByName
	watchIngressWithoutClass bool              // controller.watchIngressWithoutClass
	tcp, udp                 map[string]string // tcp, udp: "port": "namespace/service:port"
	extraArgs                map[string]string // controller.extraArgs; "" is a flag without a value
}

// ingressNginxRelease is the release's objects in namespace ns.
type ingressNginxRelease struct {
	ns         string
	deployment *appsv1.Deployment
	webhook    *admissionv1.ValidatingWebhookConfiguration
	others     []metav1.Object // everything else, in install order
}

// objects lists every object, the webhook configuration last.
func (r *ingressNginxRelease) objects() []metav1.Object {
	return append(append(slices.Clone(r.others), r.deployment), r.webhook)
}

// args are the controller container's arguments, in the chart's order:
// fixed ones, then those of values, then extraArgs sorted by name.
func (v ingressNginxValues) args() []string {
	a := []string{"/nginx-ingress-controller"}
	if v.defaultBackend {
		a = append(a, "--default-backend-service=$(POD_NAMESPACE)/"+inDefaultBE)
	}
	a = append(a,
		"--publish-service=$(POD_NAMESPACE)/"+inController,
		"--election-id="+inElectionID,
		"--controller-class="+inControllerCls,
		"--ingress-class=nginx",
		"--configmap=$(POD_NAMESPACE)/"+inController)
	if len(v.tcp) > 0 {
		a = append(a, "--tcp-services-configmap=$(POD_NAMESPACE)/"+inRelease+"-tcp")
	}
	if len(v.udp) > 0 {
		a = append(a, "--udp-services-configmap=$(POD_NAMESPACE)/"+inRelease+"-udp")
	}
	if v.scopeNamespace != "" {
		a = append(a, "--watch-namespace="+v.scopeNamespace)
	} else if v.namespaceSelector != "" {
		a = append(a, "--watch-namespace-selector="+v.namespaceSelector)
	}
	a = append(a, "--validating-webhook=:8443",
		"--validating-webhook-certificate="+inCertDir+"cert",
		"--validating-webhook-key="+inCertDir+"key")
	opt := func(on bool, arg string) {
		if on {
			a = append(a, arg)
		}
	}
	opt(v.healthCheckHost != "", "--healthz-host="+v.healthCheckHost)
	opt(v.healthCheckPath != "" && v.healthCheckPath != "/healthz", "--health-check-path="+v.healthCheckPath)
	opt(v.ingressClassByName, "--ingress-class-by-name=true")
	opt(v.watchIngressWithoutClass, "--watch-ingress-without-class=true")
	opt(v.metrics, "--enable-metrics=true")
	opt(v.electionTTL != "", "--election-ttl="+v.electionTTL)
	for _, k := range slices.Sorted(maps.Keys(v.extraArgs)) {
		if v.extraArgs[k] == "" {
			a = append(a, "--"+k)
		} else {
			a = append(a, "--"+k+"="+v.extraArgs[k])
		}
	}
	return a
}

// rule is one RBAC rule: resources and verbs space-separated.
func rule(group, resources, verbs string, names ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: []string{group}, Resources: strings.Fields(resources), Verbs: strings.Fields(verbs), ResourceNames: names}
}

// clusterRules are the ClusterRole's rules. With a scope namespace the
// namespaces list/watch becomes a get of that one namespace.
func (v ingressNginxValues) clusterRules() []rbacv1.PolicyRule {
	core := "configmaps endpoints nodes pods secrets namespaces"
	if v.scopeNamespace != "" {
		core = "configmaps endpoints nodes pods secrets"
	}
	rules := []rbacv1.PolicyRule{
		rule("", core, "list watch"),
		rule("coordination.k8s.io", "leases", "list watch"),
	}
	if v.scopeNamespace != "" {
		rules = append(rules, rule("", "namespaces", "get", v.scopeNamespace))
	}
	return append(rules,
		rule("", "nodes", "get"),
		rule("", "services", "get list watch"),
		rule("networking.k8s.io", "ingresses", "get list watch"),
		rule("", "events", "create patch"),
		rule("networking.k8s.io", "ingresses/status", "update"),
		rule("networking.k8s.io", "ingressclasses", "get list watch"),
		rule("discovery.k8s.io", "endpointslices", "list watch get"))
}

// roleRules are the Role's rules in the release namespace (ingresses/status
// is left out only when extraArgs has update-status "false").
func (v ingressNginxValues) roleRules() []rbacv1.PolicyRule {
	rules := []rbacv1.PolicyRule{
		rule("", "namespaces", "get"),
		rule("", "configmaps pods secrets endpoints", "get list watch"),
		rule("", "services", "get list watch"),
		rule("networking.k8s.io", "ingresses", "get list watch"),
	}
	if v.extraArgs["update-status"] != "false" {
		rules = append(rules, rule("networking.k8s.io", "ingresses/status", "update"))
	}
	return append(rules,
		rule("networking.k8s.io", "ingressclasses", "get list watch"),
		rule("coordination.k8s.io", "leases", "get update", inElectionID),
		rule("coordination.k8s.io", "leases", "create"),
		rule("", "events", "create patch"),
		rule("discovery.k8s.io", "endpointslices", "list watch get"))
}

// l4Ports are the tcp and udp values as the controller Service's and
// container's ports, "<port>-tcp" then "<port>-udp", each sorted.
func (v ingressNginxValues) l4Ports() (svc []corev1.ServicePort, ctr []corev1.ContainerPort) {
	for _, l4 := range []struct {
		m     map[string]string
		proto corev1.Protocol
	}{{v.tcp, corev1.ProtocolTCP}, {v.udp, corev1.ProtocolUDP}} {
		for _, p := range slices.Sorted(maps.Keys(l4.m)) {
			var n int32
			if _, err := fmt.Sscan(p, &n); err != nil {
				panic(err)
			}
			name := p + "-" + strings.ToLower(string(l4.proto))
			svc = append(svc, corev1.ServicePort{Name: name, Port: n, Protocol: l4.proto, TargetPort: intstr.FromString(name)})
			ctr = append(ctr, corev1.ContainerPort{Name: name, ContainerPort: n, Protocol: l4.proto})
		}
	}
	return svc, ctr
}

// newIngressNginxRelease builds the release's objects for v in ns.
func newIngressNginxRelease(ns string, v ingressNginxValues) *ingressNginxRelease {
	labels := func(component string) map[string]string {
		l := map[string]string{
			"helm.sh/chart":                "ingress-nginx-4.15.1",
			"app.kubernetes.io/name":       "ingress-nginx",
			"app.kubernetes.io/instance":   inRelease,
			"app.kubernetes.io/version":    "1.15.1",
			"app.kubernetes.io/part-of":    "ingress-nginx",
			"app.kubernetes.io/managed-by": "Helm",
		}
		if component != "" {
			l["app.kubernetes.io/component"] = component
		}
		return l
	}
	selector := func(component string) map[string]string {
		return map[string]string{"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/instance": inRelease, "app.kubernetes.io/component": component}
	}
	meta := func(name, component string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels(component)}
	}
	cluster := func(name, component string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Labels: labels(component)}
	}
	tm := func(apiVersion, kind string) metav1.TypeMeta {
		return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
	}
	sa := []rbacv1.Subject{{Kind: "ServiceAccount", Name: inRelease, Namespace: ns}}
	r := &ingressNginxRelease{ns: ns}

	r.others = append(r.others,
		&corev1.ServiceAccount{TypeMeta: tm("v1", "ServiceAccount"), ObjectMeta: meta(inRelease, "controller"), AutomountServiceAccountToken: ptr(true)},
		&corev1.ConfigMap{TypeMeta: tm("v1", "ConfigMap"), ObjectMeta: meta(inController, "controller")})
	if len(v.tcp) > 0 {
		r.others = append(r.others, &corev1.ConfigMap{TypeMeta: tm("v1", "ConfigMap"), ObjectMeta: meta(inRelease+"-tcp", "controller"), Data: v.tcp})
	}
	if len(v.udp) > 0 {
		r.others = append(r.others, &corev1.ConfigMap{TypeMeta: tm("v1", "ConfigMap"), ObjectMeta: meta(inRelease+"-udp", "controller"), Data: v.udp})
	}
	rbac := "rbac.authorization.k8s.io/v1"
	r.others = append(r.others,
		&rbacv1.ClusterRole{TypeMeta: tm(rbac, "ClusterRole"), ObjectMeta: cluster(inRelease, ""), Rules: v.clusterRules()},
		&rbacv1.ClusterRoleBinding{TypeMeta: tm(rbac, "ClusterRoleBinding"), ObjectMeta: cluster(inRelease, ""),
			RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: inRelease}, Subjects: sa},
		&rbacv1.Role{TypeMeta: tm(rbac, "Role"), ObjectMeta: meta(inRelease, "controller"), Rules: v.roleRules()},
		&rbacv1.RoleBinding{TypeMeta: tm(rbac, "RoleBinding"), ObjectMeta: meta(inRelease, "controller"),
			RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: inRelease}, Subjects: sa})

	svc := func(name, component string, typ corev1.ServiceType, ports ...corev1.ServicePort) *corev1.Service {
		return &corev1.Service{TypeMeta: tm("v1", "Service"), ObjectMeta: meta(name, component),
			Spec: corev1.ServiceSpec{Type: typ, Ports: ports, Selector: selector(component)}}
	}
	port := func(name string, n int32, target, appProtocol string) corev1.ServicePort {
		p := corev1.ServicePort{Name: name, Port: n, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString(target)}
		if appProtocol != "" {
			p.AppProtocol = ptr(appProtocol)
		}
		return p
	}
	l4Svc, l4Ctr := v.l4Ports()
	main := svc(inController, "controller", corev1.ServiceTypeLoadBalancer,
		append([]corev1.ServicePort{port("http", 80, "http", "http"), port("https", 443, "https", "https")}, l4Svc...)...)
	main.Spec.IPFamilyPolicy = ptr(corev1.IPFamilyPolicySingleStack)
	main.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	webhookPort := port("https-webhook", 443, "webhook", "https")
	webhookPort.Protocol = "" // the chart leaves it to the default, TCP
	r.others = append(r.others, svc(inAdmission, "controller", corev1.ServiceTypeClusterIP, webhookPort), main)
	if v.metrics {
		r.others = append(r.others, svc(inController+"-metrics", "controller", corev1.ServiceTypeClusterIP, port("metrics", 10254, "metrics", "")))
	}
	if v.defaultBackend {
		r.others = append(r.others, svc(inDefaultBE, "default-backend", corev1.ServiceTypeClusterIP, port("http", 80, "http", "http")))
	}

	// The probes are values of their own: controller.healthCheckPath does
	// not change them.
	probe := func(failures int32) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(10254), Scheme: corev1.URISchemeHTTP}},
			InitialDelaySeconds: 10, PeriodSeconds: 10, SuccessThreshold: 1, TimeoutSeconds: 1, FailureThreshold: failures}
	}
	fromField := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	ports := []corev1.ContainerPort{{Name: "http", ContainerPort: 80, Protocol: corev1.ProtocolTCP}, {Name: "https", ContainerPort: 443, Protocol: corev1.ProtocolTCP}}
	if v.metrics {
		ports = append(ports, corev1.ContainerPort{Name: "metrics", ContainerPort: 10254, Protocol: corev1.ProtocolTCP})
	}
	ports = append(append(ports, corev1.ContainerPort{Name: "webhook", ContainerPort: 8443, Protocol: corev1.ProtocolTCP}), l4Ctr...)
	container := corev1.Container{
		Name:            "controller",
		Image:           "registry.k8s.io/ingress-nginx/controller:v1.15.1",
		ImagePullPolicy: corev1.PullIfNotPresent,
		Lifecycle:       &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"/wait-shutdown"}}}},
		Args:            v.args(),
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot: ptr(true), RunAsUser: ptr(int64(101)), RunAsGroup: ptr(int64(82)),
			AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(false),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_BIND_SERVICE"}},
		},
		Env: []corev1.EnvVar{fromField("POD_NAME", "metadata.name"), fromField("POD_NAMESPACE", "metadata.namespace"),
			{Name: "LD_PRELOAD", Value: "/usr/local/lib/libmimalloc.so"}},
		LivenessProbe:  probe(5),
		ReadinessProbe: probe(3),
		Ports:          ports,
		VolumeMounts:   []corev1.VolumeMount{{Name: "webhook-cert", MountPath: inCertDir, ReadOnly: true}},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("90Mi")}},
	}
	r.deployment = &appsv1.Deployment{TypeMeta: tm("apps/v1", "Deployment"), ObjectMeta: meta(inController, "controller"),
		Spec: appsv1.DeploymentSpec{
			Selector:             &metav1.LabelSelector{MatchLabels: selector("controller")},
			Replicas:             ptr(int32(1)),
			RevisionHistoryLimit: ptr(int32(10)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels("controller")},
				Spec: corev1.PodSpec{
					DNSPolicy:                     corev1.DNSClusterFirst,
					Containers:                    []corev1.Container{container},
					NodeSelector:                  map[string]string{"kubernetes.io/os": "linux"},
					ServiceAccountName:            inRelease,
					AutomountServiceAccountToken:  ptr(true),
					TerminationGracePeriodSeconds: ptr(int64(300)),
					Volumes: []corev1.Volume{{Name: "webhook-cert",
						VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: inWebhookName}}}},
				},
			},
		}}

	r.others = append(r.others, &networkingv1.IngressClass{TypeMeta: tm("networking.k8s.io/v1", "IngressClass"), ObjectMeta: cluster("nginx", "controller"),
		Spec: networkingv1.IngressClassSpec{Controller: inControllerCls}})

	r.webhook = &admissionv1.ValidatingWebhookConfiguration{TypeMeta: tm("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
		ObjectMeta: cluster(inWebhookName, "admission-webhook"),
		Webhooks: []admissionv1.ValidatingWebhook{{
			Name:        "validate.nginx.ingress.kubernetes.io",
			MatchPolicy: ptr(admissionv1.Equivalent),
			Rules: []admissionv1.RuleWithOperations{{
				Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
				Rule:       admissionv1.Rule{APIGroups: []string{"networking.k8s.io"}, APIVersions: []string{"v1"}, Resources: []string{"ingresses"}},
			}},
			FailurePolicy:           ptr(admissionv1.Fail),
			SideEffects:             ptr(admissionv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			ClientConfig: admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{
				Name: inAdmission, Namespace: ns, Port: ptr(int32(443)), Path: ptr(inWebhookPath)}},
		}},
	}
	return r
}
