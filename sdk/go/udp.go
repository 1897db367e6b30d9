package wasmload

import (
	"time"

	witTypes "go.bytecodealliance.org/pkg/wit/types"

	witUDP "wasmload/internal/bindings/imports/wasmload_user_udp"
)

// UDPSocket sends datagrams to one peer, from a free local port. Close it
// when done; the host closes what is left open when the user ends.
type UDPSocket struct {
	handle  *witUDP.Socket
	timeout witTypes.Option[uint64]
}

// ConnectUDP opens a socket to address (host:port).
func ConnectUDP(address string) (*UDPSocket, error) {
	result := witUDP.SocketConnect(address)
	if result.IsErr() {
		return nil, udpError("udp connect "+address, result.Err())
	}
	return &UDPSocket{handle: result.Ok(), timeout: witTypes.None[uint64]()}, nil
}

func udpError(op string, err witUDP.Error) *Error {
	switch err.Tag() {
	case witUDP.Error_InvalidAddress:
		return &Error{Op: op, Kind: "invalid address", Detail: err.InvalidAddress()}
	case witUDP.Error_Timeout:
		return &Error{Op: op, Kind: "timeout"}
	default:
		return &Error{Op: op, Kind: "io", Detail: err.Io()}
	}
}

// SetTimeout sets how long Receive and Request wait (default: the run's
// --timeout).
func (s *UDPSocket) SetTimeout(timeout time.Duration) {
	s.timeout = witTypes.Some(micros(timeout))
}

// Send sends one datagram.
func (s *UDPSocket) Send(data []byte) error {
	if s.handle == nil {
		return errClosed("udp send")
	}
	if result := s.handle.Send(data); result.IsErr() {
		return udpError("udp send", result.Err())
	}
	return nil
}

// Receive returns the next datagram (at most max bytes of it).
func (s *UDPSocket) Receive(max uint32) ([]byte, error) {
	if s.handle == nil {
		return nil, errClosed("udp receive")
	}
	return s.bytes("udp receive", s.handle.Receive(max, s.timeout))
}

// Request sends one datagram and waits for one back: one event of type udp
// named name.
func (s *UDPSocket) Request(name string, payload []byte) ([]byte, error) {
	if s.handle == nil {
		return nil, errClosed("udp " + name)
	}
	return s.bytes("udp "+name, s.handle.Request(name, payload, s.timeout))
}

// Close closes the socket; calls after it return an *Error of kind
// "closed".
func (s *UDPSocket) Close() {
	if s.handle != nil {
		s.handle.Drop()
		s.handle = nil
	}
}

func (s *UDPSocket) bytes(op string, result witTypes.Result[[]uint8, witUDP.Error]) ([]byte, error) {
	if result.IsErr() {
		return nil, udpError(op, result.Err())
	}
	return result.Ok(), nil
}
