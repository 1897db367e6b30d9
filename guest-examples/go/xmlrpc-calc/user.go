// A client of an XML-RPC calculator (`add(a, b)`, `echo(value)`), e.g.
// Python's `SimpleXMLRPCServer` with those two functions, at `--host`.
package main

import (
	"fmt"
	"reflect"

	"wasmload"
)

type calculator struct{}

func init() {
	wasmload.Users(wasmload.Class[calculator]{
		Name: "calculator",
		Tasks: []wasmload.Task[calculator]{
			{Name: "add", Run: (*calculator).add, Weight: 3},
			{Name: "echo", Run: (*calculator).echo},
		},
	})
}

func (*calculator) add() error {
	a, b := int(wasmload.RandomRange(0, 1000)), int(wasmload.RandomRange(0, 1000))
	sum, err := wasmload.XMLRPCCall("/RPC2", "add", a, b)
	if err != nil {
		return err
	}
	if sum != a+b {
		return fmt.Errorf("wrong sum %v for %d + %d", sum, a, b)
	}
	return nil
}

// echo sends one value of every type and checks it comes back unchanged.
func (*calculator) echo() error {
	value := map[string]any{
		"user":    int(wasmload.UserID()),
		"name":    "<café & tea>",
		"ratio":   0.25,
		"active":  true,
		"when":    wasmload.DateTime("20261125T12:30:00"),
		"blob":    []byte{0, 1, 2, 255},
		"nothing": nil,
		"tags":    []any{"a", "b"},
		"empty":   []any{},
	}
	echoed, err := wasmload.XMLRPCCall("/RPC2", "echo", value)
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(echoed, value) {
		return fmt.Errorf("echo changed the value: %v", echoed)
	}
	return nil
}

func main() {}
