package plan

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/portico-ingress/portico/pkg/model"
)

// tlsFiles adds to files (Plan.AuthFiles) the DH parameters and the
// session ticket key of t, each named after its content, and names their
// paths in h. nginx reads them when it loads a config: a new content is a
// new name, so nginx.conf changes and nginx reloads.
func (h *HTTP) tlsFiles(t model.TLSSettings, files map[string][]byte) {
	add := func(prefix, suffix string, content []byte) string {
		if len(content) == 0 {
			return ""
		}
		sum := sha256.Sum256(content)
		name := prefix + hex.EncodeToString(sum[:8]) + suffix
		files[name] = content
		return h.AuthDir + "/" + name
	}
	h.DHParamFile = add("dhparam-", ".pem", t.DHParam)
	h.TicketKeyFile = add("ticketkey-", ".key", t.SessionTicketKey)
}
