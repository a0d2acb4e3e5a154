package render

import (
	"sync/atomic"

	"github.com/portico-ingress/portico/pkg/plan"
)

// lastSize is the length of the last rendered config: the next one is
// usually about as long.
var lastSize atomic.Int64

// sizeHint is the buffer capacity to render p into without growing it:
// a large config would otherwise be copied about twenty times while the
// buffer doubles.
func sizeHint(p *plan.Plan) int {
	n := 16 << 10
	for _, s := range p.Servers {
		n += 160 + 320*len(s.Locations)
	}
	return max(n, int(lastSize.Load())+4<<10)
}
