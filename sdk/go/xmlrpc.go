package wasmload

import (
	"fmt"
	"math"
	"sort"

	witXMLRPC "wasmload/internal/bindings/imports/wasmload_user_xmlrpc"
)

// DateTime is an XML-RPC dateTime.iso8601 value, as its text (e.g.
// 20261125T12:30:00).
type DateTime string

// XMLRPCFault is the server's <fault> answer; the host has recorded the
// call as a failed event.
type XMLRPCFault struct {
	Code    int32
	Message string
}

func (e *XMLRPCFault) Error() string { return fmt.Sprintf("fault %d: %s", e.Code, e.Message) }

// XMLRPCCall calls method at url (absolute, or a path under --host) over
// the user's HTTP session: one event of type xmlrpc named after the
// method. Values map to XML-RPC types as int (an i4), bool, string,
// float64, DateTime, []byte (base64), nil, []any (array) and
// map[string]any (struct); the answer comes back in the same types. A
// fault is an *XMLRPCFault, no answer an *Error.
func XMLRPCCall(url, method string, params ...any) (any, error) {
	var nodes []witXMLRPC.Node
	for _, param := range params {
		var err error
		if nodes, err = appendNodes(nodes, param); err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
	}
	result := witXMLRPC.Call(url, method, nodes)
	if result.IsErr() {
		return nil, xmlrpcError(method, result.Err())
	}
	value, rest, ok := rebuild(result.Ok())
	if !ok || len(rest) != 0 {
		return nil, &Error{Op: method, Kind: "malformed", Detail: "the host sent an incomplete value"}
	}
	return value, nil
}

func xmlrpcError(method string, err witXMLRPC.Error) error {
	switch err.Tag() {
	case witXMLRPC.Error_Fault:
		fault := err.Fault()
		return &XMLRPCFault{Code: fault.Code, Message: fault.Message}
	case witXMLRPC.Error_InvalidRequest:
		return &Error{Op: method, Kind: "invalid request", Detail: err.InvalidRequest()}
	case witXMLRPC.Error_Transport:
		return &Error{Op: method, Kind: "transport", Detail: err.Transport()}
	default:
		return &Error{Op: method, Kind: "malformed", Detail: err.Malformed()}
	}
}

// appendNodes flattens value into the WIT's pre-order node list.
func appendNodes(nodes []witXMLRPC.Node, value any) ([]witXMLRPC.Node, error) {
	switch value := value.(type) {
	case nil:
		return append(nodes, witXMLRPC.MakeNodeNil()), nil
	case int:
		if value < math.MinInt32 || value > math.MaxInt32 {
			return nil, fmt.Errorf("%d does not fit an XML-RPC int", value)
		}
		return append(nodes, witXMLRPC.MakeNodeInt(int32(value))), nil
	case int32:
		return append(nodes, witXMLRPC.MakeNodeInt(value)), nil
	case bool:
		return append(nodes, witXMLRPC.MakeNodeBoolean(value)), nil
	case string:
		return append(nodes, witXMLRPC.MakeNodeString(value)), nil
	case float64:
		return append(nodes, witXMLRPC.MakeNodeDouble(value)), nil
	case DateTime:
		return append(nodes, witXMLRPC.MakeNodeDatetime(string(value))), nil
	case []byte:
		return append(nodes, witXMLRPC.MakeNodeBase64(value)), nil
	case []any:
		nodes = append(nodes, witXMLRPC.MakeNodeArray(uint32(len(value))))
		for _, item := range value {
			var err error
			if nodes, err = appendNodes(nodes, item); err != nil {
				return nil, err
			}
		}
		return nodes, nil
	case map[string]any:
		names := make([]string, 0, len(value))
		for name := range value {
			names = append(names, name)
		}
		sort.Strings(names)
		nodes = append(nodes, witXMLRPC.MakeNodeStruct(names))
		for _, name := range names {
			var err error
			if nodes, err = appendNodes(nodes, value[name]); err != nil {
				return nil, err
			}
		}
		return nodes, nil
	default:
		return nil, fmt.Errorf("XML-RPC has no type for %T", value)
	}
}

// rebuild turns the value tree at the start of nodes back into a value,
// and returns the nodes after it; false when the tree is incomplete.
func rebuild(nodes []witXMLRPC.Node) (any, []witXMLRPC.Node, bool) {
	if len(nodes) == 0 {
		return nil, nil, false
	}
	node, rest := nodes[0], nodes[1:]
	switch node.Tag() {
	case witXMLRPC.Node_Int:
		return int(node.Int()), rest, true
	case witXMLRPC.Node_Boolean:
		return node.Boolean(), rest, true
	case witXMLRPC.Node_String:
		return node.String(), rest, true
	case witXMLRPC.Node_Double:
		return node.Double(), rest, true
	case witXMLRPC.Node_Datetime:
		return DateTime(node.Datetime()), rest, true
	case witXMLRPC.Node_Base64:
		return node.Base64(), rest, true
	case witXMLRPC.Node_Array:
		items := make([]any, node.Array())
		for i := range items {
			var ok bool
			if items[i], rest, ok = rebuild(rest); !ok {
				return nil, nil, false
			}
		}
		return items, rest, true
	case witXMLRPC.Node_Struct:
		names := node.Struct()
		members := make(map[string]any, len(names))
		for _, name := range names {
			member, after, ok := rebuild(rest)
			if !ok {
				return nil, nil, false
			}
			members[name], rest = member, after
		}
		return members, rest, true
	default: // nil
		return nil, rest, true
	}
}
