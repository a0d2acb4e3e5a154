package framework

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// BenchmarkRange is 198.18.0.0/15 (RFC 2544), reserved for benchmarking and
// routed nowhere: every Network lies inside it.
var BenchmarkRange = netip.MustParsePrefix("198.18.0.0/15")

// NamePrefix starts the name of every link and network namespace this
// package creates.
const NamePrefix = "ptc"

// runPrefix names this process's links and namespaces: NamePrefix, the pid
// in base 36 (at most 5 characters), "-". CleanupStale parses it back.
var runPrefix = NamePrefix + strconv.FormatInt(int64(os.Getpid()), 36) + "-"

var (
	namesMu   sync.Mutex
	linkSeq   int                 // numbers bridges and veths of this process
	netsInUse = map[string]bool{} // names of this process's open Networks
	// extraAddrs are the addresses Hosts of this process hold from
	// AddAddress, outside BenchmarkRange (allowLocalOnly lets them in).
	extraAddrs = map[netip.Addr]int{}
)

// hostAddress reports whether a Host of this process holds a from
// AddAddress.
func hostAddress(a netip.Addr) bool {
	namesMu.Lock()
	defer namesMu.Unlock()
	return extraAddrs[a] > 0
}

// nextLinkName returns a new link name of this process: runPrefix, kind, a
// number in base 36; 15 characters at most for pids below 36^5.
func nextLinkName(kind string) string {
	namesMu.Lock()
	defer namesMu.Unlock()
	linkSeq++
	return runPrefix + kind + strconv.FormatInt(int64(linkSeq), 36)
}

// validName matches network and host names.
var validName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)

// DefaultSubnet returns a /24 of BenchmarkRange: seed 0 gives 198.18.0.0/24,
// used by make dev; any other seed (a test process passes its pid) gives one
// of the other 511.
func DefaultSubnet(seed int) netip.Prefix {
	i := 0
	if seed != 0 {
		i = 1 + int(uint(seed)%511)
	}
	a := BenchmarkRange.Addr().As4()
	a[2] += byte(i % 256)
	a[1] += byte(i / 256)
	return netip.PrefixFrom(netip.AddrFrom4(a), 24)
}

// FreeSubnet is DefaultSubnet(seed), or when another run on this host
// uses that one, the next of the 511 that no interface overlaps.
func FreeSubnet(seed int) (netip.Prefix, error) {
	var err error
	for i := range 511 {
		s := DefaultSubnet(seed + i)
		if seed+i == 0 {
			continue // make dev's
		}
		if err = checkUnused(s); err == nil {
			return s, nil
		}
	}
	return netip.Prefix{}, err
}

// nthAddr returns the n-th address of subnet (0 is the network address),
// and false if that is outside subnet or its broadcast address.
func nthAddr(subnet netip.Prefix, n int) (netip.Addr, bool) {
	if n < 0 || !subnet.Addr().Is4() {
		return netip.Addr{}, false
	}
	base := subnet.Masked().Addr().As4()
	v := uint64(base[0])<<24 | uint64(base[1])<<16 | uint64(base[2])<<8 | uint64(base[3])
	size := uint64(1) << (32 - subnet.Bits())
	if uint64(n) >= size-1 {
		return netip.Addr{}, false
	}
	v += uint64(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// Network is a Linux bridge in the root network namespace, holding the
// first address of its subnet, with Hosts attached.
type Network struct {
	name   string
	subnet netip.Prefix
	bridge string
	gw     netip.Addr

	mu    sync.Mutex
	hosts map[string]*Host
	next  int // index in subnet of the next host's address
	// free are the addresses of closed hosts, oldest first: taken again
	// only once the subnet has no fresh one left.
	free   []netip.Addr
	closed bool
}

// Host is a network namespace on a Network, reached from the root namespace
// at Addr.
type Host struct {
	net   *Network
	name  string
	netns string
	veth  string // root-namespace end, on the bridge
	addr  netip.Addr
	// routes are the root namespace's routes to AddAddress's addresses.
	routes []string
}

// NewNetwork removes stale resources (CleanupStale), then creates a bridge
// for subnet, which must be an IPv4 /16 to /30 inside BenchmarkRange and not
// overlap any address on the root namespace's interfaces. name (lowercase
// letters, digits, '-') must be unique among this process's open Networks;
// it shows in the Hosts' namespace names.
func NewNetwork(name string, subnet netip.Prefix) (*Network, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("network %s: %w", name, errNotRoot)
	}
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("network %q: want a name of lowercase letters, digits and '-'", name)
	}
	if !subnet.Addr().Is4() || subnet.Bits() < 16 || subnet.Bits() > 30 || !BenchmarkRange.Contains(subnet.Addr()) || subnet.Masked() != subnet {
		return nil, fmt.Errorf("network %s: subnet %s: want an IPv4 /16 to /30 network address inside %s", name, subnet, BenchmarkRange)
	}
	if err := CleanupStale(NamePrefix); err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}
	if err := checkUnused(subnet); err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}
	namesMu.Lock()
	if netsInUse[name] {
		namesMu.Unlock()
		return nil, fmt.Errorf("network %s: name in use in this process", name)
	}
	netsInUse[name] = true
	namesMu.Unlock()

	gw, _ := nthAddr(subnet, 1) // a /30 has two host addresses
	n := &Network{
		name:   name,
		subnet: subnet,
		bridge: nextLinkName("b"),
		gw:     gw,
		hosts:  map[string]*Host{},
		next:   2,
	}
	err := ipCmds(
		[]string{"link", "add", n.bridge, "type", "bridge"},
		[]string{"addr", "add", netip.PrefixFrom(gw, subnet.Bits()).String(), "dev", n.bridge},
		[]string{"link", "set", n.bridge, "up"},
	)
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", name, errors.Join(err, n.Close()))
	}
	return n, nil
}

// checkUnused fails if subnet overlaps an address of the root namespace.
func checkUnused(subnet netip.Prefix) error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("list interfaces: %w", err)
	}
	for _, iface := range ifaces {
		addrs, err := iface.Addrs()
		if err != nil {
			return fmt.Errorf("addresses of %s: %w", iface.Name, err)
		}
		for _, a := range addrs {
			p, err := netip.ParsePrefix(a.String())
			if err == nil && p.Overlaps(subnet) {
				return fmt.Errorf("subnet %s overlaps %s on %s, in use by another run", subnet, p, iface.Name)
			}
		}
	}
	return nil
}

// Name returns the network's name.
func (n *Network) Name() string { return n.name }

// Subnet returns the network's subnet.
func (n *Network) Subnet() netip.Prefix { return n.subnet }

// Gateway returns the bridge's address: how Hosts reach the root namespace.
func (n *Network) Gateway() netip.Addr { return n.gw }

// AddHost creates a network namespace named after the network and name,
// joins it to the bridge with a veth pair, gives its eth0 the next free
// address and a default route via the bridge.
func (n *Network) AddHost(name string) (*Host, error) {
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("host %q: want a name of lowercase letters, digits and '-'", name)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, fmt.Errorf("host %s: network %s is closed", name, n.name)
	}
	if n.hosts[name] != nil {
		return nil, fmt.Errorf("host %s: exists on network %s", name, n.name)
	}
	addr, fresh := nthAddr(n.subnet, n.next)
	if !fresh {
		if len(n.free) == 0 {
			return nil, fmt.Errorf("host %s: subnet %s of network %s is full", name, n.subnet, n.name)
		}
		addr = n.free[0]
		// The root namespace may still know the closed host's MAC.
		_ = ipCmds([]string{"neigh", "flush", "to", addr.String(), "dev", n.bridge})
	}
	h := &Host{
		net:   n,
		name:  name,
		netns: runPrefix + n.name + "-" + name,
		veth:  nextLinkName("v"),
		addr:  addr,
	}
	peer := nextLinkName("p") // renamed eth0 inside the namespace
	prefix := netip.PrefixFrom(addr, n.subnet.Bits()).String()
	err := ipCmds(
		[]string{"netns", "add", h.netns},
		[]string{"link", "add", h.veth, "type", "veth", "peer", "name", peer, "netns", h.netns},
		[]string{"link", "set", h.veth, "master", n.bridge, "up"},
		[]string{"-n", h.netns, "link", "set", peer, "name", "eth0"},
		[]string{"-n", h.netns, "addr", "add", prefix, "dev", "eth0"},
		[]string{"-n", h.netns, "link", "set", "lo", "up"},
		[]string{"-n", h.netns, "link", "set", "eth0", "up"},
		[]string{"-n", h.netns, "route", "add", "default", "via", n.gw.String()},
	)
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", name, errors.Join(err, h.remove()))
	}
	if fresh {
		n.next++
	} else {
		n.free = n.free[1:]
	}
	n.hosts[name] = h
	return h, nil
}

// Close removes the hosts, their veths and the bridge. Processes still
// running in a host's namespace are not killed.
func (n *Network) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	var errs []error
	for name, h := range n.hosts {
		errs = append(errs, h.remove())
		delete(n.hosts, name)
	}
	if linkExists(n.bridge) {
		errs = append(errs, ipCmds([]string{"link", "del", n.bridge}))
	}
	namesMu.Lock()
	delete(netsInUse, n.name)
	namesMu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close network %s: %w", n.name, err)
	}
	return nil
}

// Name returns the host's name on its network.
func (h *Host) Name() string { return h.name }

// Netns returns the name of the host's network namespace, for ip netns exec.
func (h *Host) Netns() string { return h.netns }

// Addr returns the address of the host's eth0.
func (h *Host) Addr() netip.Addr { return h.addr }

// AddAddress gives the host's eth0 addr as a second address, and routes
// addr from the root namespace through the host: a Service's cluster IP,
// answered by a server in the host as kube-proxy would forward it. The
// route goes when the host does (Close), or with the bridge.
func (h *Host) AddAddress(addr netip.Addr) error {
	if !addr.Is4() {
		return fmt.Errorf("host %s: address %s: want IPv4", h.name, addr)
	}
	n := h.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.hosts[h.name] != h {
		return fmt.Errorf("host %s: closed", h.name)
	}
	one := netip.PrefixFrom(addr, 32).String()
	if err := ipCmds(
		[]string{"-n", h.netns, "addr", "add", one, "dev", "eth0"},
		[]string{"route", "add", one, "via", h.addr.String(), "dev", n.bridge},
	); err != nil {
		return fmt.Errorf("host %s: %w", h.name, err)
	}
	h.routes = append(h.routes, one)
	namesMu.Lock()
	extraAddrs[addr]++
	namesMu.Unlock()
	return nil
}

// Blackhole makes the host send nothing to the root namespace (a
// blackhole route to the network's gateway): a connection to it never
// completes, as to a node that drops packets, since its SYN-ACKs and
// resets are dropped; ARP still answers. It lasts as long as the host.
func (h *Host) Blackhole() error {
	_, err := ip("-n", h.netns, "route", "add", "blackhole", netip.PrefixFrom(h.net.gw, 32).String())
	return err
}

// Command returns a command running name inside the host's network
// namespace, killed with SIGKILL when the caller's process dies.
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command("ip", append([]string{"netns", "exec", h.netns, name}, args...)...)
	setPdeathsig(cmd)
	return cmd
}

// Close removes the host's veth pair and namespace. Processes still running
// in the namespace are not killed.
func (h *Host) Close() error {
	n := h.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.hosts[h.name] != h {
		return nil
	}
	delete(n.hosts, h.name)
	if err := h.remove(); err != nil {
		return fmt.Errorf("close host %s: %w", h.name, err)
	}
	n.free = append(n.free, h.addr)
	return nil
}

// remove deletes what of the host exists. Deleting the root end of the veth
// deletes both ends, even while processes keep the namespace alive.
func (h *Host) remove() error {
	var errs []error
	if linkExists(h.net.bridge) { // else its routes went with it
		for _, r := range h.routes {
			errs = append(errs, ipCmds([]string{"route", "del", r, "via", h.addr.String()}))
		}
	}
	namesMu.Lock()
	for _, r := range h.routes {
		a := netip.MustParsePrefix(r).Addr()
		if extraAddrs[a]--; extraAddrs[a] <= 0 {
			delete(extraAddrs, a)
		}
	}
	namesMu.Unlock()
	h.routes = nil
	if linkExists(h.veth) {
		errs = append(errs, ipCmds([]string{"link", "del", h.veth}))
	}
	if netnsExists(h.netns) {
		errs = append(errs, ipCmds([]string{"netns", "del", h.netns}))
	}
	return errors.Join(errs...)
}

// CleanupStale deletes the links and network namespaces whose names start
// with prefix followed by the base-36 pid of a process that no longer exists:
// leftovers of killed runs. It first kills and removes such runs' one-node
// clusters (StartCluster).
func CleanupStale(prefix string) error {
	clusterErr := cleanupStaleClusters(prefix)
	links, err := ipJSONNames("ifname", "link", "show")
	if err != nil {
		return err
	}
	nss, err := ipJSONNames("name", "netns", "list")
	if err != nil {
		return err
	}
	// Another process may be deleting the same ones: only report those
	// that are still there after a failure.
	errs := []error{clusterErr}
	for _, l := range links {
		if !stale(prefix, l) {
			continue
		}
		if err := ipCmds([]string{"link", "del", l}); err != nil && linkExists(l) {
			errs = append(errs, err)
		}
	}
	for _, ns := range nss {
		if !stale(prefix, ns) {
			continue
		}
		if err := ipCmds([]string{"netns", "del", ns}); err != nil && netnsExists(ns) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clean up stale %s* links and namespaces: %w", prefix, err)
	}
	return nil
}

// stale reports whether name is prefix, a base-36 pid, "-", and that pid
// is not a live process.
func stale(prefix, name string) bool {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return false
	}
	pid36, _, ok := strings.Cut(rest, "-")
	if !ok {
		return false
	}
	pid, err := strconv.ParseInt(pid36, 36, 32)
	if err != nil || pid <= 0 {
		return false
	}
	return pid != int64(os.Getpid()) && syscall.Kill(int(pid), 0) == syscall.ESRCH
}

// ipCmds runs ip with each argument list in turn, stopping at the first
// failure.
func ipCmds(argLists ...[]string) error {
	for _, args := range argLists {
		if _, err := ip(args...); err != nil {
			return err
		}
	}
	return nil
}

// ip runs ip with args and returns its stdout; the error holds stderr.
func ip(args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("ip", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

// ipJSONNames runs ip -j with args and returns field of each object listed.
func ipJSONNames(field string, args ...string) ([]string, error) {
	out, err := ip(append([]string{"-j"}, args...)...)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(out)) == 0 { // ip netns list prints nothing when there are none
		return nil, nil
	}
	var objs []map[string]any
	if err := json.Unmarshal(out, &objs); err != nil {
		return nil, fmt.Errorf("ip -j %s: %w", strings.Join(args, " "), err)
	}
	names := make([]string, 0, len(objs))
	for _, o := range objs {
		if s, ok := o[field].(string); ok {
			names = append(names, s)
		}
	}
	return names, nil
}

func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

// netnsExists reports whether ip netns knows name; it keeps namespaces
// under /run/netns.
func netnsExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}
