package wasmload

import (
	"time"

	witTypes "go.bytecodealliance.org/pkg/wit/types"

	witWS "wasmload/internal/bindings/imports/wasmload_user_websocket"
)

// WSOptions say how to connect; zero fields take the defaults.
type WSOptions struct {
	// Extra headers of the handshake request.
	Headers [][2]string
	// Subprotocols offered, most wanted first.
	Subprotocols []string
	// Of the handshake and every later call; 0: the run's --timeout.
	Timeout time.Duration
}

// WSMessage is one WebSocket message: text, or binary when Binary is set.
type WSMessage struct {
	Data   []byte
	Binary bool
}

// WSText is a text message.
func WSText(text string) WSMessage { return WSMessage{Data: []byte(text)} }

// WSBinary is a binary message.
func WSBinary(data []byte) WSMessage { return WSMessage{Data: data, Binary: true} }

// WSConn is a WebSocket connection (ws:// or wss://). Close it when done.
type WSConn struct {
	handle  *witWS.Connection
	timeout witTypes.Option[uint64]
}

// ConnectWebSocket connects to url ("" is --host): one event of type ws
// named connect.
func ConnectWebSocket(url string, options WSOptions) (*WSConn, error) {
	timeout := optionalMicros(options.Timeout)
	subprotocols := options.Subprotocols
	if subprotocols == nil {
		subprotocols = []string{}
	}
	result := witWS.ConnectionConnect(url, witWS.ConnectOptions{
		Headers:      toPairs(options.Headers),
		Subprotocols: subprotocols,
		TimeoutUs:    timeout,
	})
	if result.IsErr() {
		return nil, wsError("ws connect "+url, result.Err())
	}
	return &WSConn{handle: result.Ok(), timeout: timeout}, nil
}

func wsError(op string, err witWS.Error) *Error {
	switch err.Tag() {
	case witWS.Error_InvalidAddress:
		return &Error{Op: op, Kind: "invalid address", Detail: err.InvalidAddress()}
	case witWS.Error_Connect:
		return &Error{Op: op, Kind: "connect", Detail: err.Connect()}
	case witWS.Error_Timeout:
		return &Error{Op: op, Kind: "timeout"}
	case witWS.Error_Closed:
		return &Error{Op: op, Kind: "closed", Detail: err.Closed()}
	case witWS.Error_TooLarge:
		return &Error{Op: op, Kind: "too large", Detail: err.TooLarge()}
	default:
		return &Error{Op: op, Kind: "protocol", Detail: err.Protocol()}
	}
}

func wsOut(message WSMessage) witWS.Message {
	if message.Binary {
		return witWS.MakeMessageBinary(message.Data)
	}
	return witWS.MakeMessageText(string(message.Data))
}

func wsIn(op string, result witTypes.Result[witWS.Message, witWS.Error]) (WSMessage, error) {
	if result.IsErr() {
		return WSMessage{}, wsError(op, result.Err())
	}
	message := result.Ok()
	if message.Tag() == witWS.Message_Binary {
		return WSBinary(message.Binary()), nil
	}
	return WSText(message.Text()), nil
}

func wsDone(op string, result witTypes.Result[witTypes.Unit, witWS.Error]) error {
	if result.IsErr() {
		return wsError(op, result.Err())
	}
	return nil
}

// Subprotocol is the subprotocol the server chose, or "".
func (c *WSConn) Subprotocol() string {
	if c.handle == nil {
		return ""
	}
	chosen := c.handle.Subprotocol()
	if chosen.IsNone() {
		return ""
	}
	return chosen.Some()
}

// Send sends message.
func (c *WSConn) Send(message WSMessage) error {
	if c.handle == nil {
		return errClosed("ws send")
	}
	return wsDone("ws send", c.handle.Send(wsOut(message)))
}

// Receive returns the next message (pings are answered meanwhile).
func (c *WSConn) Receive() (WSMessage, error) {
	if c.handle == nil {
		return WSMessage{}, errClosed("ws receive")
	}
	return wsIn("ws receive", c.handle.Receive(c.timeout))
}

// Request sends message and returns the next one: one event named name.
func (c *WSConn) Request(name string, message WSMessage) (WSMessage, error) {
	if c.handle == nil {
		return WSMessage{}, errClosed("ws " + name)
	}
	return wsIn("ws "+name, c.handle.Request(name, wsOut(message), c.timeout))
}

// Ping sends a ping and waits for its pong: one event named ping.
func (c *WSConn) Ping() error {
	if c.handle == nil {
		return errClosed("ws ping")
	}
	return wsDone("ws ping", c.handle.Ping(c.timeout))
}

// Close closes with 1000 (normal) and reason; later calls return an *Error
// of kind "closed".
func (c *WSConn) Close(reason string) error {
	if c.handle == nil {
		return nil
	}
	err := wsDone("ws close", c.handle.Close(1000, reason))
	c.handle.Drop()
	c.handle = nil
	return err
}
