package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/utils/ptr"

	"github.com/portico-ingress/portico/e2e/framework"
)

// fieldManager owns what hack/dev writes to the API server.
const fieldManager = "portico-dev"

//go:embed manifests/*.yaml
var manifests embed.FS

// backends lists the pods behind each Service of manifests/. Each pod is a
// network namespace running an echo server on the Service's targetPort.
var backends = []struct {
	namespace, service, app string
	pods                    []string
}{
	{"ingress-lab", "api-service", "api", []string{"api-app-0", "api-app-1"}},
	{"ingress-lab", "frontend-service", "frontend", []string{"frontend-app-0", "frontend-app-1"}},
	{"game-prod", "game-lobby", "game-lobby", []string{"game-lobby-0"}},
	{"game-prod", "game-room", "game-room", []string{"game-room-0"}},
	{"game-prod", "game-chat", "game-chat", []string{"game-chat-0"}},
	{"game-prod", "game-ranking", "game-ranking", []string{"game-ranking-0"}},
}

// backendPod is a Pod object and the echo server standing in for it.
type backendPod struct {
	namespace, name string
	echo            *framework.Echo
}

// applyManifests server-side applies every object of manifests/, files in
// name order.
func applyManifests(ctx context.Context, cfg *rest.Config) error {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("discovery client: %w", err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	files, err := fs.Glob(manifests, "manifests/*.yaml") // sorted
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := manifests.ReadFile(f)
		if err != nil {
			return err
		}
		dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			var obj unstructured.Unstructured
			if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			if obj.Object == nil { // an empty document
				continue
			}
			gvk := obj.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				return fmt.Errorf("%s: %s %s: %w", f, gvk.Kind, obj.GetName(), err)
			}
			if _, err := dyn.Resource(m.Resource).Namespace(obj.GetNamespace()).Apply(ctx, obj.GetName(), &obj,
				metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
				return fmt.Errorf("%s: apply %s %s/%s: %w", f, gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
			}
			log.Printf("applied %s %s", gvk.Kind, namespacedName(obj.GetNamespace(), obj.GetName()))
		}
	}
	return nil
}

// startBackends starts an echo server on a new host of network for every
// pod of backends, creates the Pods as Running and Ready at the hosts'
// addresses, and each Service's EndpointSlice. It returns the pods started
// so far even on error, for cleanup.
func startBackends(ctx context.Context, c kubernetes.Interface, network *framework.Network) ([]*backendPod, error) {
	var started []*backendPod
	for _, b := range backends {
		svc, err := c.CoreV1().Services(b.namespace).Get(ctx, b.service, metav1.GetOptions{})
		if err != nil {
			return started, fmt.Errorf("backends of %s/%s: %w", b.namespace, b.service, err)
		}
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.Type != intstr.Int {
			return started, fmt.Errorf("backends of %s/%s: want one port with a numeric targetPort", b.namespace, b.service)
		}
		sp := svc.Spec.Ports[0]
		port := sp.TargetPort.IntVal
		slice := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{
				Name:      b.service,
				Namespace: b.namespace,
				Labels: map[string]string{
					discoveryv1.LabelServiceName: b.service,
					discoveryv1.LabelManagedBy:   fieldManager,
				},
			},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To(sp.Name), Port: ptr.To(port), Protocol: ptr.To(sp.Protocol)}},
		}
		for _, name := range b.pods {
			host, err := network.AddHost(name)
			if err != nil {
				return started, err
			}
			e, err := framework.StartEcho(ctx, host, b.service, name, int(port))
			if err != nil {
				return started, err
			}
			started = append(started, &backendPod{namespace: b.namespace, name: name, echo: e})
			pod, err := createRunningPod(ctx, c, b.namespace, name, b.app, host.Addr().String(), port)
			if err != nil {
				return started, err
			}
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
				Addresses: []string{pod.Status.PodIP},
				Conditions: discoveryv1.EndpointConditions{
					Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false),
				},
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: b.namespace, Name: name, UID: pod.UID},
			})
		}
		if _, err := c.DiscoveryV1().EndpointSlices(b.namespace).Create(ctx, slice, metav1.CreateOptions{FieldManager: fieldManager}); err != nil {
			return started, fmt.Errorf("create EndpointSlice %s/%s: %w", b.namespace, slice.Name, err)
		}
		log.Printf("service %s/%s: pods %v on port %d", b.namespace, b.service, b.pods, port)
	}
	return started, nil
}

// createRunningPod creates a Pod and sets its status as a kubelet would once
// its one container runs and is ready at ip.
func createRunningPod(ctx context.Context, c kubernetes.Interface, namespace, name, app, ip string, port int32) (*corev1.Pod, error) {
	const image = "portico/echoserver:dev" // never pulled: hack/echoserver runs in the pod's network namespace
	pod, err := c.CoreV1().Pods(namespace).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"app": app}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:  "echo",
			Image: image,
			Ports: []corev1.ContainerPort{{ContainerPort: port, Protocol: corev1.ProtocolTCP}},
		}}},
	}, metav1.CreateOptions{FieldManager: fieldManager})
	if err != nil {
		return nil, fmt.Errorf("create Pod %s/%s: %w", namespace, name, err)
	}
	now := metav1.NewTime(time.Now())
	pod.Status = corev1.PodStatus{
		Phase:     corev1.PodRunning,
		PodIP:     ip,
		PodIPs:    []corev1.PodIP{{IP: ip}},
		StartTime: &now,
		ContainerStatuses: []corev1.ContainerStatus{{
			Name:    "echo",
			Image:   image,
			Ready:   true,
			Started: ptr.To(true),
			State:   corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		}},
	}
	for _, t := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	pod, err = c.CoreV1().Pods(namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{FieldManager: fieldManager})
	if err != nil {
		return nil, fmt.Errorf("set status of Pod %s/%s: %w", namespace, name, err)
	}
	return pod, nil
}

func namespacedName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
