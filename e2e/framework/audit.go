package framework

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// IngressAnnotationsAudited returns the annotation keys that the bodies of
// the Ingress writes in the audit log carried (ControlPlaneOptions.
// AuditIngresses): the metadata.annotations of created, updated and
// merge- or apply-patched Ingresses, and the annotation paths of JSON
// patches.
func (cp *ControlPlane) IngressAnnotationsAudited() (map[string]bool, error) {
	f, err := os.Open(cp.AuditLog())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	keys := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var ev struct {
			ObjectRef struct {
				Resource string `json:"resource"`
			} `json:"objectRef"`
			RequestObject json.RawMessage `json:"requestObject"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return nil, fmt.Errorf("%s: %w", cp.AuditLog(), err)
		}
		if ev.ObjectRef.Resource != "ingresses" || len(ev.RequestObject) == 0 {
			continue
		}
		var obj struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		var ops []struct {
			Path  string          `json:"path"`
			Value json.RawMessage `json:"value"`
		}
		switch {
		case json.Unmarshal(ev.RequestObject, &obj) == nil:
			for k := range obj.Metadata.Annotations {
				keys[k] = true
			}
		case json.Unmarshal(ev.RequestObject, &ops) == nil:
			for _, op := range ops {
				if k, ok := strings.CutPrefix(op.Path, "/metadata/annotations/"); ok {
					keys[strings.NewReplacer("~1", "/", "~0", "~").Replace(k)] = true
				} else if op.Path == "/metadata/annotations" {
					var m map[string]string
					if json.Unmarshal(op.Value, &m) == nil {
						for k := range m {
							keys[k] = true
						}
					}
				}
			}
		}
	}
	return keys, sc.Err()
}
