package model

import (
	"fmt"

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
	ctrl    map[string]string
	defOurs string // name of a default IngressClass that is ours
}

func newClassifier(opts Options, classes []*networkingv1.IngressClass) classifier {
	c := classifier{opts: opts, ours: map[string]bool{}, ctrl: map[string]string{}}
	for _, ic := range classes {
		mine := ic.Spec.Controller == opts.ControllerClass || (opts.IngressClassByName && ic.Name == opts.IngressClass)
		c.ours[ic.Name] = mine
		c.ctrl[ic.Name] = ic.Spec.Controller
		if mine && ic.Annotations[defaultClassAnnotation] == "true" && (c.defOurs == "" || ic.Name < c.defOurs) {
			c.defOurs = ic.Name
		}
	}
	return c
}

func (c classifier) owns(ing *networkingv1.Ingress) bool {
	ok, _ := c.explain(ing)
	return ok
}

// explain reports whether the controller owns ing and why, for people.
func (c classifier) explain(ing *networkingv1.Ingress) (bool, string) {
	if c.opts.DisableCatchAll && ing.Spec.DefaultBackend != nil {
		return false, "spec.defaultBackend makes it a catch-all Ingress, and --disable-catch-all is on"
	}
	if n := ing.Spec.IngressClassName; n != nil {
		ctrl, exists := c.ctrl[*n]
		switch {
		case !exists:
			return false, fmt.Sprintf("ingressClassName %q: no IngressClass of that name exists", *n)
		case c.ours[*n] && ctrl != c.opts.ControllerClass:
			return true, fmt.Sprintf("ingressClassName %q: the IngressClass of that name is ours by --ingress-class-by-name", *n)
		case c.ours[*n]:
			return true, fmt.Sprintf("ingressClassName %q: IngressClass controller %s is ours", *n, ctrl)
		}
		return false, fmt.Sprintf("ingressClassName %q: IngressClass controller %s is not ours (%s)", *n, ctrl, c.opts.ControllerClass)
	}
	if class, ok := ing.Annotations[legacyClassAnnotation]; ok {
		if class == c.opts.IngressClass {
			return true, fmt.Sprintf("annotation %s=%q matches --ingress-class", legacyClassAnnotation, class)
		}
		return false, fmt.Sprintf("annotation %s=%q does not match --ingress-class=%q", legacyClassAnnotation, class, c.opts.IngressClass)
	}
	switch {
	case c.opts.WatchWithoutClass:
		return true, "no class; --watch-ingress-without-class is on"
	case c.defOurs != "":
		return true, fmt.Sprintf("no class; the default IngressClass %q is ours", c.defOurs)
	}
	return false, "no class, no default IngressClass of ours, and --watch-ingress-without-class is off"
}

// unknownClass reports whether ing names an IngressClass that does not
// exist, so that no controller can serve it.
func (c classifier) unknownClass(ing *networkingv1.Ingress) bool {
	if n := ing.Spec.IngressClassName; n != nil {
		_, exists := c.ctrl[*n]
		return !exists
	}
	return false
}

// Ownership reports whether the controller configured by opts serves ing,
// given the cluster's IngressClasses, and why in words. Build uses the same
// rules.
func Ownership(opts Options, classes []*networkingv1.IngressClass, ing *networkingv1.Ingress) (bool, string) {
	return newClassifier(opts, classes).explain(ing)
}
