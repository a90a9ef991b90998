//go:build linux || darwin

package awsfake

import (
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// listenConfig makes listeners that share their port with the socket
// holdPort binds (SO_REUSEPORT), so that a Server's port is held before
// its listener closes and released after a new one listens: no other
// listener can take it in between.
var listenConfig = net.ListenConfig{
	Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); cerr != nil {
			return cerr
		}
		return err
	},
}

// holdPort binds a TCP socket to addr without listening on it. It keeps
// the port from other listeners (a port chosen by the kernel skips it),
// while the kernel answers a connection to it with a reset, which the
// client sees as ECONNREFUSED. It returns the function that releases the
// port.
func holdPort(addr *net.TCPAddr) (func() error, error) {
	var family int
	var sa syscall.Sockaddr
	if ip4 := addr.IP.To4(); ip4 != nil {
		family, sa = syscall.AF_INET, &syscall.SockaddrInet4{Port: addr.Port, Addr: [4]byte(ip4)}
	} else {
		family, sa = syscall.AF_INET6, &syscall.SockaddrInet6{Port: addr.Port, Addr: [16]byte(addr.IP.To16())}
	}
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("awsfake: hold port %d: %w", addr.Port, err)
	}
	// SO_REUSEADDR as Go's listeners have it, so that the server's closed
	// connections, in TIME_WAIT, do not keep the port from being held;
	// SO_REUSEPORT to bind while the listener still listens.
	for _, opt := range []int{syscall.SO_REUSEADDR, unix.SO_REUSEPORT} {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, opt, 1); err != nil {
			syscall.Close(fd)
			return nil, fmt.Errorf("awsfake: hold port %d: %w", addr.Port, err)
		}
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("awsfake: hold port %d: %w", addr.Port, err)
	}
	return func() error { return syscall.Close(fd) }, nil
}
