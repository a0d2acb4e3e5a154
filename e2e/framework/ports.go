package framework

import (
	"fmt"
	"net"
	"sync"
)

var (
	portsMu sync.Mutex
	// portsGiven keeps FreePort from returning a port twice in this process.
	portsGiven = map[int]bool{}
)

// FreePort returns a TCP port that is free on 127.0.0.1 now and that it has
// not returned before in this process. Another process may still take it
// before the caller binds it. It panics if no port can be had, which only a
// broken loopback causes.
func FreePort() int {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(fmt.Sprintf("framework.FreePort: %v", err))
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !portsGiven[port] {
			portsGiven[port] = true
			return port
		}
	}
	panic("framework.FreePort: the kernel keeps returning ports already given out")
}
