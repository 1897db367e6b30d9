package wasmload

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	witTypes "go.bytecodealliance.org/pkg/wit/types"

	witHTTP "wasmload/internal/bindings/imports/wasmload_user_http"
)

// Request is an HTTP request through the user's session (its cookies and
// keep-alive connections); zero fields take the defaults.
type Request struct {
	// GET when empty.
	Method string
	// Absolute (http:// or https://), or a path under --host.
	URL     string
	Headers [][2]string
	Body    []byte
	// Groups the request in the stats; default: the URL's path without
	// its query.
	Name string
	// Of the whole exchange; 0: the run's --timeout.
	Timeout time.Duration
	// Return 3xx answers instead of following them.
	NoRedirects bool
}

// Response is a received response. Its event is recorded when it is
// judged with Success or Failure, or closed with Close, or else when the
// task returns; unjudged, a status of 400 or more makes it a failure.
// Status and Body stay; Header, Headers, URL and Elapsed answer only until
// the response is judged or closed (the host holds it, against the user's
// budgets, until then: a task sending many requests should close each).
type Response struct {
	// The HTTP status code.
	Status int
	// The whole body.
	Body   []byte
	handle *witHTTP.Response
}

// The responses handed out during the current export call and not yet
// released: they are dropped when it returns, which records unjudged ones.
var pendingResponses = map[*witHTTP.Response]struct{}{}

func releaseResponses() {
	for handle := range pendingResponses {
		handle.Drop()
	}
	clear(pendingResponses)
}

// Close records the response's event, if not yet judged (by its status),
// and releases what the host holds for it.
func (r *Response) Close() {
	if r.handle == nil {
		return
	}
	delete(pendingResponses, r.handle)
	r.handle.Drop()
	r.handle = nil
}

// Send sends a request and reads the whole response. The error, an
// *Error, says why no response came.
func Send(request Request) (*Response, error) {
	method := request.Method
	if method == "" {
		method = "GET"
	}
	name := witTypes.None[string]()
	if request.Name != "" {
		name = witTypes.Some(request.Name)
	}
	timeout := optionalMicros(request.Timeout)
	result := witHTTP.Send(witHTTP.Request{
		Method:          method,
		Url:             request.URL,
		Headers:         toPairs(request.Headers),
		Body:            request.Body,
		Name:            name,
		TimeoutUs:       timeout,
		FollowRedirects: !request.NoRedirects,
	})
	if result.IsErr() {
		return nil, httpError(method+" "+request.URL, result.Err())
	}
	handle := result.Ok()
	pendingResponses[handle] = struct{}{}
	return &Response{Status: int(handle.Status()), Body: handle.Body(), handle: handle}, nil
}

func httpError(op string, err witHTTP.Error) *Error {
	switch err.Tag() {
	case witHTTP.Error_InvalidRequest:
		return &Error{Op: op, Kind: "invalid request", Detail: err.InvalidRequest()}
	case witHTTP.Error_Timeout:
		return &Error{Op: op, Kind: "timeout"}
	case witHTTP.Error_Connect:
		return &Error{Op: op, Kind: "connect", Detail: err.Connect()}
	case witHTTP.Error_Transport:
		return &Error{Op: op, Kind: "transport", Detail: err.Transport()}
	default:
		return &Error{Op: op, Kind: "too many redirects"}
	}
}

// Get sends a GET request.
func Get(url string) (*Response, error) { return Send(Request{URL: url}) }

// PostJSON sends value, encoded as JSON, with a JSON content type.
func PostJSON(url string, value any) (*Response, error) {
	body, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	return Send(Request{
		Method:  "POST",
		URL:     url,
		Headers: [][2]string{{"content-type", "application/json"}},
		Body:    body,
	})
}

// Text is the body as a string.
func (r *Response) Text() string { return string(r.Body) }

// JSON decodes the body into value, as encoding/json's Unmarshal does.
func (r *Response) JSON(value any) error {
	if err := json.Unmarshal(r.Body, value); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return nil
}

// Header is the first header with this name (case-insensitive); none
// once the response is judged or closed.
func (r *Response) Header(name string) (string, bool) {
	if r.handle == nil {
		return "", false
	}
	value := r.handle.Header(name)
	if value.IsNone() {
		return "", false
	}
	return value.Some(), true
}

// Headers are the response's headers, in order; none once the response is
// judged or closed.
func (r *Response) Headers() [][2]string {
	if r.handle == nil {
		return nil
	}
	return fromPairs(r.handle.Headers())
}

// URL is the final URL, after redirects; empty once the response is
// judged or closed.
func (r *Response) URL() string {
	if r.handle == nil {
		return ""
	}
	return r.handle.Url()
}

// Elapsed is the time from sending the request to the end of the body; 0
// once the response is judged or closed.
func (r *Response) Elapsed() time.Duration {
	if r.handle == nil {
		return 0
	}
	return time.Duration(r.handle.ElapsedUs()) * time.Microsecond
}

// Success records the request as a success, whatever its status, and
// closes the response. Judging a closed response does nothing.
func (r *Response) Success() {
	if r.handle != nil {
		r.handle.Success()
		r.Close()
	}
}

// Failure records the request as a failure with this reason (like
// Locust's catch_response) and closes the response. Judging a closed
// response does nothing.
func (r *Response) Failure(reason string) {
	if r.handle != nil {
		r.handle.Failure(reason)
		r.Close()
	}
}

// ExpectStatus fails the request, and returns a *CheckError, unless the
// status is status.
func (r *Response) ExpectStatus(status int) error {
	if r.Status == status {
		return nil
	}
	why := fmt.Sprintf("expected status %d, got %d", status, r.Status)
	r.Failure(why)
	return &CheckError{Reason: why}
}

// Rest sends a JSON request the way Locust's RestUser does: Content-Type
// and Accept are application/json unless the request sets them, and
// check's error fails the request, not the task. A body that is not JSON
// fails the request without running check (which may be nil);
// Response.JSON decodes it.
// The error is an *Error only when no response came.
//
//	wasmload.Rest(wasmload.Request{URL: "/items/7"}, func(r *wasmload.Response) error {
//		var item struct{ InStock bool `json:"in_stock"` }
//		if err := r.JSON(&item); err != nil {
//			return err
//		}
//		if !item.InStock {
//			return errors.New("out of stock")
//		}
//		return nil
//	})
func Rest(request Request, check func(response *Response) error) (*Response, error) {
	request.Headers = append([][2]string(nil), request.Headers...)
	for _, name := range []string{"content-type", "accept"} {
		if !hasHeader(request.Headers, name) {
			request.Headers = append(request.Headers, [2]string{name, "application/json"})
		}
	}
	response, err := Send(request)
	if err != nil {
		return nil, err
	}
	if len(response.Body) > 0 && !json.Valid(response.Body) {
		response.Failure("invalid JSON")
		return response, nil
	}
	if check == nil {
		return response, nil
	}
	if err := check(response); err != nil {
		response.Failure(why(err))
	}
	return response, nil
}

func hasHeader(headers [][2]string, name string) bool {
	for _, header := range headers {
		if strings.EqualFold(header[0], name) {
			return true
		}
	}
	return false
}
