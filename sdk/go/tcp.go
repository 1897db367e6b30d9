package wasmload

import (
	"time"

	witTypes "go.bytecodealliance.org/pkg/wit/types"

	witTCP "wasmload/internal/bindings/imports/wasmload_user_tcp"
)

// TCPOptions say how to connect; zero fields take the defaults.
type TCPOptions struct {
	// Speak TLS, checking the certificate for the address's host.
	TLS bool
	// Of connecting and of every later call; 0: the run's --timeout.
	Timeout time.Duration
}

// TCPConn is a raw TCP connection, plain or TLS. Close it when done; the
// host closes what is left open when the user ends.
type TCPConn struct {
	handle  *witTCP.Connection
	timeout witTypes.Option[uint64]
	// The most bytes ReceiveUntil and Request wait for (default 1 MiB).
	MaxMessage uint32
}

// ConnectTCP connects to address (host:port): one event of type tcp named
// connect.
func ConnectTCP(address string, options TCPOptions) (*TCPConn, error) {
	timeout := optionalMicros(options.Timeout)
	result := witTCP.ConnectionConnect(address, witTCP.ConnectOptions{TimeoutUs: timeout, Tls: options.TLS})
	if result.IsErr() {
		return nil, tcpError("tcp connect "+address, result.Err())
	}
	return &TCPConn{handle: result.Ok(), timeout: timeout, MaxMessage: 1 << 20}, nil
}

func tcpError(op string, err witTCP.Error) *Error {
	switch err.Tag() {
	case witTCP.Error_InvalidAddress:
		return &Error{Op: op, Kind: "invalid address", Detail: err.InvalidAddress()}
	case witTCP.Error_Connect:
		return &Error{Op: op, Kind: "connect", Detail: err.Connect()}
	case witTCP.Error_Timeout:
		return &Error{Op: op, Kind: "timeout"}
	case witTCP.Error_Closed:
		return &Error{Op: op, Kind: "closed", Detail: "closed by the peer"}
	case witTCP.Error_TooLarge:
		return &Error{Op: op, Kind: "too large"}
	default:
		return &Error{Op: op, Kind: "io", Detail: err.Io()}
	}
}

// Send sends all of data.
func (c *TCPConn) Send(data []byte) error {
	if c.handle == nil {
		return errClosed("tcp send")
	}
	if result := c.handle.Send(data); result.IsErr() {
		return tcpError("tcp send", result.Err())
	}
	return nil
}

// Receive returns up to max bytes as soon as any arrive; nothing once the
// peer closed.
func (c *TCPConn) Receive(max uint32) ([]byte, error) {
	if c.handle == nil {
		return nil, errClosed("tcp receive")
	}
	return c.bytes("tcp receive", c.handle.Receive(max, c.timeout))
}

// ReceiveUntil returns the bytes up to and including delimiter.
func (c *TCPConn) ReceiveUntil(delimiter []byte) ([]byte, error) {
	if c.handle == nil {
		return nil, errClosed("tcp receive")
	}
	return c.bytes("tcp receive", c.handle.ReceiveUntil(delimiter, c.MaxMessage, c.timeout))
}

// ReceiveExact returns exactly count bytes.
func (c *TCPConn) ReceiveExact(count int) ([]byte, error) {
	data := make([]byte, 0, max(count, 0))
	for len(data) < count {
		chunk, err := c.Receive(uint32(min(count-len(data), 1<<30)))
		if err != nil {
			return nil, err
		}
		if len(chunk) == 0 {
			return nil, &Error{Op: "tcp receive", Kind: "closed", Detail: "closed by the peer"}
		}
		data = append(data, chunk...)
	}
	return data, nil
}

// Request sends payload and reads through until: one event of type tcp
// named name, its length the bytes read.
func (c *TCPConn) Request(name string, payload, until []byte) ([]byte, error) {
	if c.handle == nil {
		return nil, errClosed("tcp " + name)
	}
	return c.bytes("tcp "+name, c.handle.Request(name, payload, until, c.timeout))
}

// Close closes the connection; calls after it return an *Error of kind
// "closed".
func (c *TCPConn) Close() {
	if c.handle != nil {
		c.handle.Drop()
		c.handle = nil
	}
}

func (c *TCPConn) bytes(op string, result witTypes.Result[[]uint8, witTCP.Error]) ([]byte, error) {
	if result.IsErr() {
		return nil, tcpError(op, result.Err())
	}
	return result.Ok(), nil
}
