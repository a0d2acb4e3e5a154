package model

import (
	networkingv1 "k8s.io/api/networking/v1"
)

const (
	// legacyClassAnnotation is the pre-IngressClass way to pick a class.
	legacyClassAnnotation = "kubernetes.io/ingress.class"
	// defaultClassAnnotation marks the cluster's default IngressClass.
	defaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class"
)

// classifier decides which Ingresses this controller owns, as the Ingress
// API defines it: spec.ingressClassName through the IngressClass's
// spec.controller, else the legacy annotation, else the default class.
type classifier struct {
	opts    Options
	ours    map[string]bool // IngressClass name → spec.controller is ours
	defOurs bool            // a default IngressClass is ours
}

func newClassifier(opts Options, classes []*networkingv1.IngressClass) classifier {
	c := classifier{opts: opts, ours: map[string]bool{}}
	for _, ic := range classes {
		mine := ic.Spec.Controller == opts.ControllerClass
		c.ours[ic.Name] = mine
		if mine && ic.Annotations[defaultClassAnnotation] == "true" {
			c.defOurs = true
		}
	}
	return c
}

func (c classifier) owns(ing *networkingv1.Ingress) bool {
	if ing.Spec.IngressClassName != nil {
		return c.ours[*ing.Spec.IngressClassName]
	}
	if class, ok := ing.Annotations[legacyClassAnnotation]; ok {
		return class == c.opts.IngressClass
	}
	return c.opts.WatchWithoutClass || c.defOurs
}
