package did

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// blockedPrefixes are address ranges a did:web fetch must never reach. IPv4-mapped IPv6
// addresses are unmapped before the check.
var blockedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network", includes the unspecified address
		"10.0.0.0/8",      // private (RFC 1918)
		"100.64.0.0/10",   // carrier-grade NAT (RFC 6598)
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, cloud metadata
		"172.16.0.0/12",   // private (RFC 1918)
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.168.0.0/16",  // private (RFC 1918)
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, includes broadcast
		"::/128",          // unspecified
		"::1/128",         // loopback
		"::/96",           // IPv4-compatible (deprecated)
		"64:ff9b:1::/48",  // local-use IPv4/IPv6 translation
		"100::/64",        // discard-only
		"2001:db8::/32",   // documentation
		"fc00::/7",        // unique local
		"fe80::/10",       // link-local
		"fec0::/10",       // site-local (deprecated)
		"ff00::/8",        // multicast
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// nat64 is the well-known NAT64 prefix; the IPv4 address in its low 32 bits is checked.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// CheckPublicAddress reports whether ip is a public unicast address that a server-side
// fetch may contact. It returns an error wrapping ErrUnsafeAddress for unspecified,
// loopback, private (RFC 1918, fc00::/7), link-local (169.254/16, fe80::/10), CGNAT
// (100.64/10), multicast, reserved and documentation addresses, including IPv4-mapped
// and NAT64 forms of them.
func CheckPublicAddress(ip netip.Addr) error {
	if !ip.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrUnsafeAddress)
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is6() && nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return fmt.Errorf("%w: %s is in %s", ErrUnsafeAddress, ip, p)
		}
	}
	if !ip.IsGlobalUnicast() {
		return fmt.Errorf("%w: %s is not a global unicast address", ErrUnsafeAddress, ip)
	}
	return nil
}

// DialGuard is the address policy of package did's did:web fetches, for other
// server-side fetches of URLs taken from outside input (such as status list
// credentials). Its zero value refuses every address CheckPublicAddress refuses.
type DialGuard struct {
	// TestAllowLoopback also admits loopback addresses, so tests can reach an httptest
	// server. Never set it in production.
	TestAllowLoopback bool
	// TestLoopbackOnly admits nothing but loopback addresses (for plain-http tests).
	// Never set it in production.
	TestLoopbackOnly bool
}

// check applies the guard to one resolved address.
func (g DialGuard) check(ip netip.Addr) error {
	ip = ip.WithZone("").Unmap()
	if ip.IsLoopback() && (g.TestAllowLoopback || g.TestLoopbackOnly) {
		return nil
	}
	if g.TestLoopbackOnly {
		return fmt.Errorf("%w: %s: plain http is only allowed to loopback in tests", ErrUnsafeAddress, ip)
	}
	return CheckPublicAddress(ip)
}

// Control is a net.Dialer Control function applying the guard. It runs after DNS
// resolution, on the address actually being dialed, so a name that resolves (or
// rebinds) to a refused address is refused; the error wraps ErrUnsafeAddress.
func (g DialGuard) Control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnsafeAddress, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %q is not an ip address", ErrUnsafeAddress, host)
	}
	return g.check(ip)
}
