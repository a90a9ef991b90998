//go:build !(linux || darwin)

package awsfake

import (
	"errors"
	"net"
)

// listenConfig makes plain listeners.
var listenConfig net.ListenConfig

// holdPort does not hold the port on this system: while the server is
// stopped another listener may take it.
func holdPort(*net.TCPAddr) (func() error, error) {
	return nil, errors.New("awsfake: cannot hold a port on this system")
}
