package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
)

// The PROXY protocol (HAProxy's, versions 1 and 2) lets a TCP load balancer
// tell the server who the client is: a header before the first byte of the
// client's own stream (before TLS). The engine reads it from TrustedProxies
// peers when Config.ProxyProtocol is on, and judges the client it names.

// errProxyHeader is a malformed or missing PROXY header.
var errProxyHeader = errors.New("engine: bad PROXY protocol header")

// proxyV2Sig starts every version 2 header.
var proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

const (
	proxyV1Max = 107  // the longest version 1 line, CRLF included
	proxyV2Max = 1024 // the longest version 2 header accepted (addresses and TLVs)
)

// parseProxyHeader reads a PROXY header at the start of b. It returns the
// client's address (invalid for UNKNOWN or LOCAL: use the peer's), the
// header's length, or n == 0 with a nil error when more bytes are needed.
func parseProxyHeader(b []byte) (src netip.Addr, n int, err error) {
	switch {
	case len(b) >= len(proxyV2Sig) && bytes.Equal(b[:len(proxyV2Sig)], proxyV2Sig):
		return parseProxyV2(b)
	case len(b) < len(proxyV2Sig) && bytes.HasPrefix(proxyV2Sig, b):
		return netip.Addr{}, 0, nil // could still be either version
	case bytes.HasPrefix(b, []byte("PROXY ")) || (len(b) < 6 && bytes.HasPrefix([]byte("PROXY "), b)):
		return parseProxyV1(b)
	}
	return netip.Addr{}, 0, errProxyHeader
}

// parseProxyV1 reads "PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n".
func parseProxyV1(b []byte) (netip.Addr, int, error) {
	end := bytes.Index(b, []byte("\r\n"))
	if end < 0 {
		if len(b) >= proxyV1Max {
			return netip.Addr{}, 0, errProxyHeader
		}
		return netip.Addr{}, 0, nil
	}
	if end+2 > proxyV1Max {
		return netip.Addr{}, 0, errProxyHeader
	}
	f := bytes.Split(b[:end], []byte(" "))
	if len(f) >= 2 && string(f[1]) == "UNKNOWN" {
		return netip.Addr{}, end + 2, nil
	}
	if len(f) != 6 || (string(f[1]) != "TCP4" && string(f[1]) != "TCP6") {
		return netip.Addr{}, 0, errProxyHeader
	}
	src, err1 := netip.ParseAddr(string(f[2]))
	dst, err2 := netip.ParseAddr(string(f[3]))
	if err1 != nil || err2 != nil || src.Is4() != (string(f[1]) == "TCP4") || dst.Is4() != src.Is4() || src.Zone() != "" ||
		!validPort(f[4]) || !validPort(f[5]) {
		return netip.Addr{}, 0, errProxyHeader
	}
	return src, end + 2, nil
}

// validPort accepts a decimal port without leading zeros.
func validPort(p []byte) bool {
	_, err := strconv.ParseUint(string(p), 10, 16)
	return err == nil && (len(p) == 1 || p[0] != '0')
}

// parseProxyV2 reads the binary header: signature, version and command,
// family and protocol, length, then the addresses (and TLVs, skipped).
func parseProxyV2(b []byte) (netip.Addr, int, error) {
	if len(b) < 16 {
		return netip.Addr{}, 0, nil
	}
	verCmd, fam := b[12], b[13]
	size := int(binary.BigEndian.Uint16(b[14:16]))
	if verCmd>>4 != 2 || size > proxyV2Max-16 {
		return netip.Addr{}, 0, errProxyHeader
	}
	if len(b) < 16+size {
		return netip.Addr{}, 0, nil
	}
	body := b[16 : 16+size]
	switch verCmd & 0x0f {
	case 0: // LOCAL: the balancer's own connection (a health check)
		return netip.Addr{}, 16 + size, nil
	case 1: // PROXY
	default:
		return netip.Addr{}, 0, errProxyHeader
	}
	switch fam {
	case 0x11, 0x12: // TCP or UDP over IPv4
		if size < 12 {
			return netip.Addr{}, 0, errProxyHeader
		}
		return netip.AddrFrom4([4]byte(body[0:4])), 16 + size, nil
	case 0x21, 0x22: // over IPv6
		if size < 36 {
			return netip.Addr{}, 0, errProxyHeader
		}
		return netip.AddrFrom16([16]byte(body[0:16])).Unmap(), 16 + size, nil
	case 0x00: // UNSPEC
		return netip.Addr{}, 16 + size, nil
	}
	return netip.Addr{}, 0, errProxyHeader // unix sockets and the like: not a client address
}
