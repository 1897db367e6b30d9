// Package nethttp sends the requests of Go's own HTTP clients through the
// user's wasmload session, so any code that takes an *http.Client, or
// uses http.Get and http.DefaultClient, runs unchanged and has every
// request recorded as an event.
//
//	import (
//		"net/http"
//
//		_ "wasmload/nethttp" // http.DefaultTransport is now the user's session
//	)
//
//	response, err := http.Get(base + "/items")
//
// Importing the package makes Transport http.DefaultTransport (Go's own
// cannot open connections in a wasmload user anyway). Each request is one
// event, typed by its method and named by its path, or by an
// X-Wasmload-Name header, which is not sent. Go's client follows
// redirects itself, so each hop is an event of its own; an answer's event
// is judged by its status (400 or more fails) as it arrives. Cookies are
// the session's: leave http.Client.Jar nil, or they are sent twice.
package nethttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"wasmload"
)

// NameHeader groups a request in the stats under its value instead of
// the URL's path; the transport removes it before sending.
const NameHeader = "X-Wasmload-Name"

// Transport is an http.RoundTripper over the user's session: its cookie
// jar and keep-alive connections, and the run's --timeout, or the request
// context's deadline when sooner. A request whose context has already
// ended is not sent.
type Transport struct{}

func init() {
	http.DefaultTransport = Transport{}
}

// RoundTrip sends one request through wasmload and reads the whole answer.
func (Transport) RoundTrip(request *http.Request) (*http.Response, error) {
	if err := request.Context().Err(); err != nil {
		return nil, err
	}
	var body []byte
	if request.Body != nil {
		var err error
		body, err = io.ReadAll(request.Body)
		request.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	// Credentials in the URL become basic authentication, as Go's own
	// transport sends them (the host does not send a URL's user info).
	target := *request.URL
	target.User = nil
	sent := wasmload.Request{
		Method:      request.Method,
		URL:         target.String(),
		Name:        request.Header.Get(NameHeader),
		Body:        body,
		NoRedirects: true,
	}
	if sent.Name == "" {
		sent.Name = request.URL.Path
	}
	for name, values := range request.Header {
		if http.CanonicalHeaderKey(name) == NameHeader {
			continue
		}
		for _, value := range values {
			sent.Headers = append(sent.Headers, [2]string{name, value})
		}
	}
	if user := request.URL.User; user != nil && request.Header.Get("Authorization") == "" {
		password, _ := user.Password()
		credentials := base64.StdEncoding.EncodeToString([]byte(user.Username() + ":" + password))
		sent.Headers = append(sent.Headers, [2]string{"authorization", "Basic " + credentials})
	}
	if request.Host != "" && request.Host != request.URL.Host {
		sent.Headers = append(sent.Headers, [2]string{"host", request.Host})
	}
	deadline, hasDeadline := request.Context().Deadline()
	if hasDeadline {
		sent.Timeout = max(time.Until(deadline), time.Microsecond)
	}
	answer, err := wasmload.Send(sent)
	if err != nil {
		var failed *wasmload.Error
		if hasDeadline && errors.As(err, &failed) && failed.Timeout() {
			return nil, fmt.Errorf("%w: %w", err, context.DeadlineExceeded)
		}
		return nil, err
	}
	header := make(http.Header)
	for _, pair := range answer.Headers() {
		header.Add(pair[0], pair[1])
	}
	// Recorded now, by its status; the host holds nothing more for it.
	answer.Close()
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", answer.Status, http.StatusText(answer.Status)),
		StatusCode:    answer.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(answer.Body)),
		ContentLength: int64(len(answer.Body)),
		Request:       request,
	}, nil
}
