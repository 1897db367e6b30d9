package wasmload

import (
	"fmt"
	"time"

	witTypes "go.bytecodealliance.org/pkg/wit/types"

	witGRPC "wasmload/internal/bindings/imports/wasmload_user_grpc"
)

// GRPCOptions say where and how to make a gRPC call; zero fields take the
// defaults.
type GRPCOptions struct {
	// http://host:port, or https://... for TLS; default: --host.
	Endpoint string
	// Request metadata (ASCII keys and values).
	Metadata [][2]string
	// The call's deadline; 0: the run's --timeout.
	Timeout time.Duration
}

// GRPCReply is what a gRPC call returned.
type GRPCReply struct {
	// The reply messages (protobuf bytes): exactly one for a unary call.
	Messages [][]byte
	// Response headers and trailers.
	Metadata [][2]string
}

// GRPCError is a gRPC call that ended without a reply; the host has
// already recorded it as a failed event.
type GRPCError struct {
	Method string
	// The gRPC status code (1 cancelled, 4 deadline exceeded, 14
	// unavailable, ...); 0 when the call could not be made at all.
	Code    uint32
	Message string
}

func (e *GRPCError) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("%s: invalid request: %s", e.Method, e.Message)
	}
	return fmt.Sprintf("%s: status %d: %s", e.Method, e.Code, e.Message)
}

// GRPCUnary calls method (/package.Service/Method) with one protobuf
// message, encoded by the caller. One event of type grpc, named after the
// method; any status but OK is a failure and a *GRPCError.
func GRPCUnary(method string, message []byte, options GRPCOptions) (*GRPCReply, error) {
	return grpcCall(witGRPC.Unary, method, message, options)
}

// GRPCServerStreaming calls a server-streaming method and collects every
// message the server sends.
func GRPCServerStreaming(method string, message []byte, options GRPCOptions) (*GRPCReply, error) {
	return grpcCall(witGRPC.ServerStreaming, method, message, options)
}

type grpcFunction func(string, []uint8, witGRPC.CallOptions) witTypes.Result[witGRPC.Reply, witGRPC.Error]

func grpcCall(call grpcFunction, method string, message []byte, options GRPCOptions) (*GRPCReply, error) {
	endpoint := witTypes.None[string]()
	if options.Endpoint != "" {
		endpoint = witTypes.Some(options.Endpoint)
	}
	timeout := optionalMicros(options.Timeout)
	result := call(method, message, witGRPC.CallOptions{
		Endpoint:  endpoint,
		Metadata:  toPairs(options.Metadata),
		TimeoutUs: timeout,
	})
	if result.IsErr() {
		err := result.Err()
		if err.Tag() == witGRPC.Error_Status {
			status := err.Status()
			return nil, &GRPCError{Method: method, Code: status.Code, Message: status.Message}
		}
		return nil, &GRPCError{Method: method, Message: err.InvalidRequest()}
	}
	reply := result.Ok()
	return &GRPCReply{Messages: reply.Messages, Metadata: fromPairs(reply.Metadata)}, nil
}

func toPairs(pairs [][2]string) []witTypes.Tuple2[string, string] {
	tuples := make([]witTypes.Tuple2[string, string], len(pairs))
	for i, pair := range pairs {
		tuples[i] = witTypes.Tuple2[string, string]{F0: pair[0], F1: pair[1]}
	}
	return tuples
}

func fromPairs(tuples []witTypes.Tuple2[string, string]) [][2]string {
	pairs := make([][2]string, len(tuples))
	for i, tuple := range tuples {
		pairs[i] = [2]string{tuple.F0, tuple.F1}
	}
	return pairs
}
