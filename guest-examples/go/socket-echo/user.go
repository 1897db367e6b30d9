// Talks to echo servers over TCP and UDP with the request helpers, which
// the host times as one event per exchange.
//
// Parameters: `-e TCP=host:port -e UDP=host:port`.
package main

import (
	"errors"
	"fmt"

	"wasmload"
)

type echoer struct {
	tcp *wasmload.TCPConn
	udp *wasmload.UDPSocket
}

func init() {
	wasmload.Users(wasmload.Class[echoer]{
		Name: "echoer",
		Tasks: []wasmload.Task[echoer]{
			{Name: "tcp line", Run: (*echoer).tcpLine},
			{Name: "udp datagram", Run: (*echoer).udpDatagram},
		},
		OnStart: (*echoer).connect,
		OnStop:  (*echoer).close,
	})
}

func (e *echoer) connect() error {
	tcpAddress, hasTCP := wasmload.Param("TCP")
	udpAddress, hasUDP := wasmload.Param("UDP")
	if !hasTCP || !hasUDP {
		return errors.New("set -e TCP=host:port -e UDP=host:port")
	}
	var err error
	if e.tcp, err = wasmload.ConnectTCP(tcpAddress, wasmload.TCPOptions{}); err != nil {
		return err
	}
	e.udp, err = wasmload.ConnectUDP(udpAddress)
	return err
}

func (e *echoer) close() error {
	e.tcp.Close()
	e.udp.Close()
	return nil
}

func (e *echoer) tcpLine() error {
	line := fmt.Sprintf("hello from user %d\n", wasmload.UserID())
	echoed, err := e.tcp.Request("echo line", []byte(line), []byte("\n"))
	if err != nil {
		return err
	}
	if string(echoed) != line {
		return fmt.Errorf("TCP echo differs: %q", echoed)
	}
	return nil
}

func (e *echoer) udpDatagram() error {
	echoed, err := e.udp.Request("echo datagram", []byte("ping"))
	if err != nil {
		return err
	}
	if string(echoed) != "ping" {
		return fmt.Errorf("UDP echo differs: %q", echoed)
	}
	return nil
}

func main() {}
