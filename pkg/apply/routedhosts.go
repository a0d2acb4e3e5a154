package apply

import (
	"bytes"

	"go.uber.org/zap"
)

// writeRoutedHosts writes the routed-hosts file the last Apply asked for
// when the file does not hold it yet; a.mu is held. nginx does not read
// the file: it is written atomically, with no nginx -t and no reload, and
// a failure is logged and tried again at the next Apply, never failing
// one.
func (a *Applier) writeRoutedHosts() {
	if a.RoutedHosts == "" || a.routedWant == nil || bytes.Equal(a.routedWant, a.routedWritten) {
		return
	}
	path, data := a.RoutedHosts, a.routedWant
	if err := a.Owned.write(path, data, func() error { return writeAtomic(path, data, 0o644) }); err != nil {
		a.Log.Warn("write the routed-hosts file", zap.String("file", path), zap.Error(err))
		return
	}
	a.routedWritten = data
}
