package framework

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
)

var (
	portsMu sync.Mutex
	// portsGiven keeps FreePort from returning a port twice in this process.
	portsGiven = map[int]bool{}
)

// FreePort returns a TCP port that is free now and that it has not
// returned before in this process. It picks below Linux's ephemeral range
// (32768-60999): a port the kernel hands out for :0 may be taken again as
// the local port of an outgoing connection before the caller binds it.
// Another process may still take it first. It panics if no port can be
// had, which only a broken network stack causes.
func FreePort() int {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 1000 {
		port := 20000 + rand.IntN(12000)
		if portsGiven[port] {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		portsGiven[port] = true
		return port
	}
	panic("framework.FreePort: no free port from 20000 to 31999")
}
