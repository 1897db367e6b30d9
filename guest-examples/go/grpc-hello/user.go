// Greets the canonical `helloworld.Greeter` service at `--host` and checks
// the reply. The one-field protobuf messages are encoded by hand; the host
// only carries bytes.
package main

import (
	"fmt"

	"wasmload"
)

type greeter struct {
	name string
}

func init() {
	wasmload.Users(wasmload.Class[greeter]{
		Name:    "greeter",
		Tasks:   []wasmload.Task[greeter]{{Name: "say hello", Run: (*greeter).sayHello}},
		OnStart: (*greeter).start,
	})
}

func (g *greeter) start() error {
	g.name = fmt.Sprintf("user %d", wasmload.UserID())
	return nil
}

// helloRequest is `message HelloRequest { string name = 1; }`, for names
// under 128 bytes.
func helloRequest(name string) []byte {
	return append([]byte{0x0a, byte(len(name))}, name...)
}

// helloReply decodes `message HelloReply { string message = 1; }`.
func helloReply(message []byte) (string, error) {
	if len(message) < 2 || message[0] != 0x0a || int(message[1]) != len(message)-2 {
		return "", fmt.Errorf("undecodable reply %q", message)
	}
	return string(message[2:]), nil
}

func (g *greeter) sayHello() error {
	reply, err := wasmload.GRPCUnary("/helloworld.Greeter/SayHello", helloRequest(g.name), wasmload.GRPCOptions{})
	if err != nil {
		return err
	}
	greeting, err := helloReply(reply.Messages[0])
	if err != nil {
		return err
	}
	if greeting != "Hello "+g.name {
		return fmt.Errorf("unexpected greeting %q", greeting)
	}
	return nil
}

func main() {}
