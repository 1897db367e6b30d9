// A user written with Go's own clients, unchanged: net/http's http.Get,
// http.Post and http.DefaultClient, and an XML-RPC call made with
// encoding/xml and http.Post. Importing wasmload/nethttp routes their
// requests through the user's session, and wasmload records each one; the
// code here times nothing.
//
// The clients need absolute URLs, so the bases come from `--host` and
// `-e XMLRPC=http://host:port` (Python's SimpleXMLRPCServer with `add`).
package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"wasmload"
	_ "wasmload/nethttp"
)

type browser struct {
	base, xmlrpc string
}

func init() {
	wasmload.Users(wasmload.Class[browser]{
		Name: "standard library user",
		Wait: wasmload.Constant(10 * time.Millisecond),
		Tasks: []wasmload.Task[browser]{
			{Name: "home", Run: (*browser).home, Weight: 2},
			{Name: "item", Run: (*browser).item},
			{Name: "add", Run: (*browser).add},
		},
		OnStart: (*browser).logIn,
	})
}

func (b *browser) logIn() error {
	host, ok := wasmload.Host()
	if !ok {
		return errors.New("set --host http://host:port")
	}
	b.base = strings.TrimSuffix(host, "/")
	if b.xmlrpc, ok = wasmload.Param("XMLRPC"); !ok {
		return errors.New("set -e XMLRPC=http://host:port")
	}
	login := fmt.Sprintf(`{"username":"user%d","password":"secret"}`, wasmload.UserID())
	response, err := http.Post(b.base+"/login", "application/json", strings.NewReader(login))
	if err != nil {
		return err
	}
	return expect(response, http.StatusOK, `"token"`)
}

func (b *browser) home() error {
	response, err := http.Get(b.base + "/")
	if err != nil {
		return err
	}
	return expect(response, http.StatusOK, "ok")
}

func (b *browser) item() error {
	id := wasmload.RandomRange(1, 1001)
	request, err := http.NewRequest("GET", fmt.Sprintf("%s/items/%d", b.base, id), nil)
	if err != nil {
		return err
	}
	request.Header.Set("X-Wasmload-Name", "/items/[id]")
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		return err
	}
	return expect(response, http.StatusOK, fmt.Sprintf(`"id":%d`, id))
}

// expect reads the whole answer and checks its status and body.
func expect(response *http.Response, status int, contains string) error {
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		return err
	}
	if response.StatusCode != status || !bytes.Contains(body, []byte(contains)) {
		return fmt.Errorf("%s answered %s: %q", response.Request.URL.Path, response.Status, body)
	}
	return nil
}

// The XML-RPC messages, as encoding/xml reads and writes them.
type methodCall struct {
	XMLName    xml.Name `xml:"methodCall"`
	MethodName string   `xml:"methodName"`
	Params     []param  `xml:"params>param"`
}

type param struct {
	Int int `xml:"value>int"`
}

type methodResponse struct {
	Value int    `xml:"params>param>value>int"`
	Fault string `xml:"fault>value>struct>member>value>string"`
}

func (b *browser) add() error {
	x, y := int(wasmload.RandomRange(0, 1000)), int(wasmload.RandomRange(0, 1000))
	call, err := xml.Marshal(methodCall{MethodName: "add", Params: []param{{x}, {y}}})
	if err != nil {
		return err
	}
	response, err := http.Post(b.xmlrpc+"/RPC2", "text/xml", bytes.NewReader(append([]byte(xml.Header), call...)))
	if err != nil {
		return err
	}
	defer response.Body.Close()
	var answer methodResponse
	if err := xml.NewDecoder(response.Body).Decode(&answer); err != nil {
		return fmt.Errorf("undecodable answer: %w", err)
	}
	if answer.Fault != "" || answer.Value != x+y {
		return fmt.Errorf("add(%d, %d) answered %d %q", x, y, answer.Value, answer.Fault)
	}
	return nil
}

func main() {}
