package diag

import (
	"fmt"
	"sort"
)

// Severity says whether a diagnostic means input was refused.
type Severity string

const (
	// Error: input was refused; what it asked for is not served.
	Error Severity = "Error"
	// Warning: input was accepted in part or with a caveat (an unsupported
	// annotation ignored, a route that answers 503).
	Warning Severity = "Warning"
	// Info: purely informative.
	Info Severity = "Info"
)

// Object identifies a Kubernetes object.
type Object struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (o Object) String() string {
	if o.Namespace == "" {
		return o.Kind + "/" + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// Diagnostic is one finding about one field of one object.
type Diagnostic struct {
	Object   Object   `json:"object"`
	Field    string   `json:"field,omitempty"`
	Severity Severity `json:"severity"`
	Reason   string   `json:"reason"`
	Message  string   `json:"message"`
}

func (d Diagnostic) String() string {
	if d.Field == "" {
		return fmt.Sprintf("%s: %s: %s", d.Object, d.Reason, d.Message)
	}
	return fmt.Sprintf("%s: %s: %s: %s", d.Object, d.Field, d.Reason, d.Message)
}

// Errorf returns an Error diagnostic about field; the caller sets Object.
func Errorf(field, reason, format string, args ...any) Diagnostic {
	return Diagnostic{Field: field, Severity: Error, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Warnf returns a Warning diagnostic about field; the caller sets Object.
func Warnf(field, reason, format string, args ...any) Diagnostic {
	return Diagnostic{Field: field, Severity: Warning, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Infof returns an Info diagnostic about field; the caller sets Object.
func Infof(field, reason, format string, args ...any) Diagnostic {
	return Diagnostic{Field: field, Severity: Info, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// For sets Object on every diagnostic in ds and returns ds.
func For(obj Object, ds []Diagnostic) []Diagnostic {
	for i := range ds {
		ds[i].Object = obj
	}
	return ds
}

// HasError reports whether any diagnostic in ds is an Error.
func HasError(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Sort orders ds by object, field, reason and message, so output is stable.
func Sort(ds []Diagnostic) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Object != b.Object {
			if a.Object.Kind != b.Object.Kind {
				return a.Object.Kind < b.Object.Kind
			}
			if a.Object.Namespace != b.Object.Namespace {
				return a.Object.Namespace < b.Object.Namespace
			}
			return a.Object.Name < b.Object.Name
		}
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		if a.Reason != b.Reason {
			return a.Reason < b.Reason
		}
		return a.Message < b.Message
	})
}
