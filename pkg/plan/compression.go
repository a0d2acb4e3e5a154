package plan

import (
	"strings"

	"github.com/portico-ingress/portico/pkg/model"
)

// Compress is what nginx.conf prints of one compression filter (gzip, or
// the Brotli module's).
type Compress struct {
	*model.Compression
	// Types is the *_types argument: the model's types without text/html,
	// which nginx always compresses and warns of when listed; "" prints no
	// directive (text/html alone).
	Types string
	// Vary sends Vary: Accept-Encoding with what the filter may compress
	// (gzip_vary, which the Brotli module reads too): gzip always does;
	// Brotli does when gzip is off.
	Vary bool
}

func compressOf(c *model.Compression, vary bool) *Compress {
	if c == nil {
		return nil
	}
	var ts []string
	for _, t := range c.Types {
		if !strings.EqualFold(t, "text/html") {
			ts = append(ts, t)
		}
	}
	return &Compress{Compression: c, Types: strings.Join(ts, " "), Vary: vary}
}
