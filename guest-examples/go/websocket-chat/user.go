// A chatter on a WebSocket echo service: each exchange (a text line, a
// binary frame, a ping) is one event of type ws, timed by the host. The
// connection offers the chat.v1 subprotocol and says which user it is in a
// header.
//
// Run with `--host ws://127.0.0.1:8765/chat`; `-e WAIT_MS=...` is the pause
// after each task (default 100).
package main

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"wasmload"
)

type chatter struct{ socket *wasmload.WSConn }

func init() {
	wasmload.Users(wasmload.Class[chatter]{
		Name: "chatter",
		Wait: wasmload.Constant(time.Duration(waitMS()) * time.Millisecond),
		Tasks: []wasmload.Task[chatter]{
			{Name: "say", Run: (*chatter).say, Weight: 3},
			{Name: "upload", Run: (*chatter).upload},
			{Name: "ping", Run: (*chatter).ping},
		},
		OnStart: (*chatter).connect,
		OnStop:  (*chatter).close,
	})
}

func waitMS() int {
	text, _ := wasmload.Param("WAIT_MS")
	if ms, err := strconv.Atoi(text); err == nil {
		return ms
	}
	return 100
}

func (c *chatter) connect() error {
	var err error
	c.socket, err = wasmload.ConnectWebSocket("", wasmload.WSOptions{
		Headers:      [][2]string{{"x-user", strconv.Itoa(int(wasmload.UserID()))}},
		Subprotocols: []string{"chat.v1"},
	})
	if err != nil {
		return err
	}
	if c.socket.Subprotocol() != "chat.v1" {
		return errors.New("no chat.v1 subprotocol")
	}
	return nil
}

func (c *chatter) close() error { return c.socket.Close("done") }

func (c *chatter) say() error {
	line := fmt.Sprintf("hello from user %d", wasmload.UserID())
	reply, err := c.socket.Request("say", wasmload.WSText(line))
	if err != nil {
		return err
	}
	if reply.Binary || string(reply.Data) != line {
		return errors.New("the echo differs")
	}
	return nil
}

func (c *chatter) upload() error {
	frame := make([]byte, 256)
	for i := range frame {
		frame[i] = byte(i)
	}
	reply, err := c.socket.Request("upload", wasmload.WSBinary(frame))
	if err != nil {
		return err
	}
	if !reply.Binary || !bytes.Equal(reply.Data, frame) {
		return errors.New("the binary echo differs")
	}
	return nil
}

func (c *chatter) ping() error { return c.socket.Ping() }

func main() {}
