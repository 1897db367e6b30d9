package wasmload

import (
	"time"

	witTypes "go.bytecodealliance.org/pkg/wit/types"

	witMQTT "wasmload/internal/bindings/imports/wasmload_user_mqtt"
)

// QoS is MQTT's delivery guarantee: 0 at most once, 1 at least once, 2
// exactly once.
type QoS uint8

// MQTTOptions say how to connect; zero fields take the defaults.
type MQTTOptions struct {
	// Default: wasmload-USER-RANDOM.
	ClientID string
	// Seconds the broker waits for a packet before it disconnects; 0:
	// never. Nothing pings for you: call Ping.
	KeepAlive uint16
	// Keep the session's state on the broker (default: a clean session).
	PersistentSession bool
	// Of connecting and of every later call; 0: the run's --timeout.
	Timeout time.Duration
}

// MQTTMessage is a message delivered on a subscription.
type MQTTMessage struct {
	Topic   string
	Payload []byte
	QoS     QoS
	Retain  bool
}

// MQTTConn is a connection to an MQTT 3.1.1 broker. Disconnect it when done.
type MQTTConn struct {
	handle  *witMQTT.Connection
	timeout witTypes.Option[uint64]
}

// ConnectMQTT connects to url (mqtt://[user:password@]host:1883 or
// mqtts://...; "" is --host): one event of type mqtt named connect.
func ConnectMQTT(url string, options MQTTOptions) (*MQTTConn, error) {
	timeout := optionalMicros(options.Timeout)
	clientID := witTypes.None[string]()
	if options.ClientID != "" {
		clientID = witTypes.Some(options.ClientID)
	}
	result := witMQTT.ConnectionConnect(url, witMQTT.ConnectOptions{
		ClientId:     clientID,
		KeepAliveS:   options.KeepAlive,
		CleanSession: !options.PersistentSession,
		TimeoutUs:    timeout,
	})
	if result.IsErr() {
		return nil, mqttError("mqtt connect "+url, result.Err())
	}
	return &MQTTConn{handle: result.Ok(), timeout: timeout}, nil
}

func mqttError(op string, err witMQTT.Error) *Error {
	switch err.Tag() {
	case witMQTT.Error_InvalidAddress:
		return &Error{Op: op, Kind: "invalid address", Detail: err.InvalidAddress()}
	case witMQTT.Error_Connect:
		return &Error{Op: op, Kind: "connect", Detail: err.Connect()}
	case witMQTT.Error_Refused:
		return &Error{Op: op, Kind: "refused", Detail: err.Refused()}
	case witMQTT.Error_Timeout:
		return &Error{Op: op, Kind: "timeout"}
	case witMQTT.Error_Closed:
		return &Error{Op: op, Kind: "closed", Detail: err.Closed()}
	case witMQTT.Error_TooLarge:
		return &Error{Op: op, Kind: "too large", Detail: err.TooLarge()}
	default:
		return &Error{Op: op, Kind: "protocol", Detail: err.Protocol()}
	}
}

func mqttDone(op string, result witTypes.Result[witTypes.Unit, witMQTT.Error]) error {
	if result.IsErr() {
		return mqttError(op, result.Err())
	}
	return nil
}

func qosLevel(qos QoS) (witMQTT.Qos, error) {
	if qos > 2 {
		return 0, &Error{Op: "mqtt", Kind: "invalid QoS", Detail: "QoS is 0, 1 or 2"}
	}
	return witMQTT.Qos(qos), nil
}

// Publish publishes payload to topic at qos, timed to its acknowledgement
// (0: sent; 1: PUBACK; 2: PUBCOMP): one event named the topic.
func (c *MQTTConn) Publish(topic string, payload []byte, qos QoS) error {
	return c.PublishNamed(topic, topic, payload, qos)
}

// PublishNamed is Publish with the event named name.
func (c *MQTTConn) PublishNamed(name, topic string, payload []byte, qos QoS) error {
	if c.handle == nil {
		return errClosed("mqtt publish " + topic)
	}
	level, err := qosLevel(qos)
	if err != nil {
		return err
	}
	message := witMQTT.Message{Topic: topic, Payload: payload, Qos: level}
	return mqttDone("mqtt publish "+topic, c.handle.Publish(witTypes.Some(name), message, c.timeout))
}

// Subscribe subscribes to filter and returns the QoS the broker granted:
// one event named "subscribe FILTER".
func (c *MQTTConn) Subscribe(filter string, qos QoS) (QoS, error) {
	if c.handle == nil {
		return 0, errClosed("mqtt subscribe " + filter)
	}
	level, err := qosLevel(qos)
	if err != nil {
		return 0, err
	}
	result := c.handle.Subscribe(filter, level, c.timeout)
	if result.IsErr() {
		return 0, mqttError("mqtt subscribe "+filter, result.Err())
	}
	return QoS(result.Ok()), nil
}

// Receive returns the next message on this connection's subscriptions.
func (c *MQTTConn) Receive() (MQTTMessage, error) {
	if c.handle == nil {
		return MQTTMessage{}, errClosed("mqtt receive")
	}
	result := c.handle.Receive(c.timeout)
	if result.IsErr() {
		return MQTTMessage{}, mqttError("mqtt receive", result.Err())
	}
	got := result.Ok()
	return MQTTMessage{Topic: got.Topic, Payload: got.Payload, QoS: QoS(got.Qos), Retain: got.Retain}, nil
}

// Ping sends PINGREQ, timed to its PINGRESP: one event named ping.
func (c *MQTTConn) Ping() error {
	if c.handle == nil {
		return errClosed("mqtt ping")
	}
	return mqttDone("mqtt ping", c.handle.Ping(c.timeout))
}

// Disconnect says goodbye (DISCONNECT) and closes; later calls return an
// *Error of kind "closed".
func (c *MQTTConn) Disconnect() error {
	if c.handle == nil {
		return nil
	}
	err := mqttDone("mqtt disconnect", c.handle.Disconnect())
	c.handle.Drop()
	c.handle = nil
	return err
}
