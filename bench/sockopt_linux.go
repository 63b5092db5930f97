package bench

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// bindNoPort makes a dialer bound to a source address choose its port at
// connect(2) time rather than at bind(2) time (IP_BIND_ADDRESS_NO_PORT), so
// the kernel picks a port whose whole 4-tuple is free: each source address
// then has the full ephemeral range per destination, and a port still in
// TIME_WAIT towards the target is skipped instead of colliding.
func bindNoPort(_, _ string, rc syscall.RawConn) error {
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	}); err != nil {
		return err
	}
	return serr
}
