package lint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
)

// Objects are the decoded objects Lint reads.
type Objects struct {
	Ingresses      []*networkingv1.Ingress
	IngressClasses []*networkingv1.IngressClass
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	Secrets        []*corev1.Secret
	ConfigMaps     []*corev1.ConfigMap
	// Skipped counts documents of other kinds.
	Skipped int
}

// Count is the number of objects Lint reads.
func (o *Objects) Count() int {
	return len(o.Ingresses) + len(o.IngressClasses) + len(o.Services) + len(o.EndpointSlices) + len(o.Secrets) + len(o.ConfigMaps)
}

// Load decodes every .yaml, .yml and .json file under each path (a file or
// a directory, walked recursively); "-" is standard input. Namespaced
// objects without a namespace get namespace ns.
func Load(paths []string, ns string, stdin io.Reader) (*Objects, error) {
	o := &Objects{}
	for _, p := range paths {
		if p == "-" {
			if err := o.Decode(stdin, "<stdin>", ns); err != nil {
				return nil, err
			}
			continue
		}
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			if path != p {
				switch strings.ToLower(filepath.Ext(path)) {
				case ".yaml", ".yml", ".json":
				default:
					return nil
				}
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			return o.Decode(f, path, ns)
		})
		if err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Decode adds the objects of a multi-document YAML or JSON stream; a List
// is unpacked. name is used in errors.
func (o *Objects) Decode(r io.Reader, name, ns string) error {
	dec := yaml.NewYAMLOrJSONDecoder(r, 4096)
	for doc := 1; ; doc++ {
		var raw runtime.RawExtension
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
		raw.Raw = bytes.TrimSpace(raw.Raw)
		if len(raw.Raw) == 0 || string(raw.Raw) == "null" {
			continue
		}
		if err := o.add(raw.Raw, ns); err != nil {
			return fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
	}
}

func (o *Objects) add(data []byte, ns string) error {
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		if runtime.IsNotRegisteredError(err) {
			o.Skipped++
			return nil
		}
		return err
	}
	setNS := func(m interface {
		GetNamespace() string
		SetNamespace(string)
	}) {
		if m.GetNamespace() == "" {
			m.SetNamespace(ns)
		}
	}
	switch v := obj.(type) {
	case *networkingv1.Ingress:
		setNS(v)
		o.Ingresses = append(o.Ingresses, v)
	case *networkingv1.IngressClass:
		o.IngressClasses = append(o.IngressClasses, v)
	case *corev1.Service:
		setNS(v)
		o.Services = append(o.Services, v)
	case *discoveryv1.EndpointSlice:
		setNS(v)
		o.EndpointSlices = append(o.EndpointSlices, v)
	case *corev1.Secret:
		setNS(v)
		// As the API server does: stringData is merged into data.
		for k, val := range v.StringData {
			if v.Data == nil {
				v.Data = map[string][]byte{}
			}
			v.Data[k] = []byte(val)
		}
		o.Secrets = append(o.Secrets, v)
	case *corev1.ConfigMap:
		setNS(v)
		o.ConfigMaps = append(o.ConfigMaps, v)
	case *corev1.List:
		for _, item := range v.Items {
			if err := o.add(item.Raw, ns); err != nil {
				return err
			}
		}
	default:
		o.Skipped++
	}
	return nil
}

// Overlay returns base with the objects of top added, each replacing the
// base object of the same kind, namespace and name.
func Overlay(base, top *Objects) *Objects {
	return &Objects{
		Ingresses:      overlay(base.Ingresses, top.Ingresses),
		IngressClasses: overlay(base.IngressClasses, top.IngressClasses),
		Services:       overlay(base.Services, top.Services),
		EndpointSlices: overlay(base.EndpointSlices, top.EndpointSlices),
		Secrets:        overlay(base.Secrets, top.Secrets),
		ConfigMaps:     overlay(base.ConfigMaps, top.ConfigMaps),
		Skipped:        base.Skipped + top.Skipped,
	}
}

func overlay[T interface {
	GetNamespace() string
	GetName() string
}](base, top []T) []T {
	replaced := map[string]bool{}
	for _, t := range top {
		replaced[t.GetNamespace()+"/"+t.GetName()] = true
	}
	var out []T
	for _, b := range base {
		if !replaced[b.GetNamespace()+"/"+b.GetName()] {
			out = append(out, b)
		}
	}
	return append(out, top...)
}
