// A sensor on an MQTT broker: readings at QoS 0, alarms at QoS 1, audit
// records at QoS 2, each publish one event timed to its acknowledgement;
// and a command it sends to its own topic and waits to receive, the round
// trip timed as a custom event.
//
// Run with `--host mqtt://127.0.0.1:1883`; `-e WAIT_MS=...` is the pause
// after each task (default 100).
package main

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"wasmload"
)

type sensor struct {
	broker   *wasmload.MQTTConn
	commands string
}

func init() {
	wasmload.Users(wasmload.Class[sensor]{
		Name: "sensor",
		Wait: wasmload.Constant(time.Duration(waitMS()) * time.Millisecond),
		Tasks: []wasmload.Task[sensor]{
			{Name: "reading", Run: (*sensor).reading, Weight: 4},
			{Name: "alarm", Run: (*sensor).alarm, Weight: 2},
			{Name: "audit", Run: (*sensor).audit},
			{Name: "command", Run: (*sensor).command},
		},
		OnStart: (*sensor).connect,
		OnStop:  (*sensor).disconnect,
	})
}

func waitMS() int {
	text, _ := wasmload.Param("WAIT_MS")
	if ms, err := strconv.Atoi(text); err == nil {
		return ms
	}
	return 100
}

func (s *sensor) connect() error {
	var err error
	if s.broker, err = wasmload.ConnectMQTT("", wasmload.MQTTOptions{}); err != nil {
		return err
	}
	s.commands = fmt.Sprintf("commands/%d", wasmload.UserID())
	granted, err := s.broker.Subscribe(s.commands, 1)
	if err != nil {
		return err
	}
	if granted != 1 {
		return errors.New("the broker granted another QoS")
	}
	return nil
}

func (s *sensor) disconnect() error { return s.broker.Disconnect() }

func (s *sensor) reading() error {
	value := fmt.Sprintf("%d.%d", 15+wasmload.RandomRange(0, 10), wasmload.RandomRange(0, 10))
	return s.broker.Publish("sensors/temperature", []byte(value), 0)
}

func (s *sensor) alarm() error { return s.broker.Publish("sensors/alarm", []byte("door open"), 1) }

func (s *sensor) audit() error { return s.broker.Publish("sensors/audit", []byte("checked"), 2) }

func (s *sensor) command() error {
	return wasmload.Time("mqtt", "command round trip", func() (uint64, error) {
		if err := s.broker.PublishNamed("command", s.commands, []byte("calibrate"), 1); err != nil {
			return 0, err
		}
		command, err := s.broker.Receive()
		if err != nil {
			return 0, err
		}
		if string(command.Payload) != "calibrate" {
			return 0, errors.New("another command came back")
		}
		return uint64(len(command.Payload)), nil
	})
}

func main() {}
