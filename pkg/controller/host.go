package controller

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
)

// HostIPv6 reports whether this host (the Pod's network namespace) has
// IPv6, as ingress-nginx decides whether nginx listens on it: the kernel
// has it on, and an interface has an IPv6 address (loopback's ::1 counts).
func HostIPv6() bool {
	off, err := os.ReadFile("/proc/sys/net/ipv6/conf/all/disable_ipv6")
	if err != nil || strings.TrimSpace(string(off)) == "1" {
		return false
	}
	for _, a := range localAddresses() {
		if a.Is6() {
			return true
		}
	}
	return false
}

// OpenFilesLimit is this process's hard limit of open files, which nginx
// inherits (0 when unknown).
func OpenFilesLimit() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Max > 1<<30 {
		return 0
	}
	return int(l.Max)
}

// localAddresses are the addresses of this host's interfaces, which
// bind-address may name; nil when they cannot be read (then the model
// does not check).
func localAddresses() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out
}
