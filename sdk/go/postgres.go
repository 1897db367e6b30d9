package wasmload

import (
	"fmt"
	"math"
	"strconv"
	"time"

	witTypes "go.bytecodealliance.org/pkg/wit/types"

	witPG "wasmload/internal/bindings/imports/wasmload_user_postgres"
)

// PostgresError is a statement or connection that failed; the host has
// already recorded the failed event. Code is the server's SQLSTATE
// ("23514") when the server refused it, else empty. errors.As finds the
// *Error inside.
type PostgresError struct {
	Err  *Error
	Code string
}

func (e *PostgresError) Error() string { return e.Err.Error() }

// Unwrap is the *Error inside.
func (e *PostgresError) Unwrap() error { return e.Err }

// PGConn is a PostgreSQL connection: one event of type postgres named
// connect. Statements use $1, $2, ...; each is one event named by its
// StatementOptions.Name or its text with the literals elided.
type PGConn struct {
	handle  *witPG.Connection
	timeout witTypes.Option[uint64]
}

// PGStatement is a statement prepared once to run many times.
type PGStatement struct {
	handle  *witPG.Statement
	op      string
	timeout witTypes.Option[uint64]
}

// PGRows is what a query returned: column names, and each row's values in
// column order as Go values (nil, bool, int64, float64, string, []byte).
type PGRows struct {
	Columns []string
	Rows    [][]any
}

// ConnectPostgres connects to url (postgres://user:password@host:5432/db;
// "" is --host). timeout bounds the connect and every later statement; 0
// is the run's --timeout.
func ConnectPostgres(url string, timeout time.Duration) (*PGConn, error) {
	micros := optionalMicros(timeout)
	result := witPG.ConnectionConnect(url, witPG.ConnectOptions{TimeoutUs: micros})
	if result.IsErr() {
		return nil, pgError("postgres connect", result.Err())
	}
	return &PGConn{handle: result.Ok(), timeout: micros}, nil
}

func pgError(op string, err witPG.Error) error {
	failed := func(kind, detail string) error {
		return &PostgresError{Err: &Error{Op: op, Kind: kind, Detail: detail}}
	}
	switch err.Tag() {
	case witPG.Error_InvalidAddress:
		return failed("invalid address", err.InvalidAddress())
	case witPG.Error_Connect:
		return failed("connect", err.Connect())
	case witPG.Error_Timeout:
		return failed("timeout", "")
	case witPG.Error_Server:
		server := err.Server()
		detail := server.Code + " " + server.Message
		return &PostgresError{Err: &Error{Op: op, Kind: "server", Detail: detail}, Code: server.Code}
	case witPG.Error_Conversion:
		return failed("conversion", err.Conversion())
	case witPG.Error_TooLarge:
		return failed("too large", err.TooLarge())
	default:
		return failed("closed", err.Closed())
	}
}

// pgValues turns Go parameters into the host's values: nil, bool, the
// integer kinds (int8; a uint64 past int64 as text), float32/64 (float8),
// []byte (bytea), string, time.Time (RFC 3339 text); any other value goes
// as its fmt text for the server to parse.
func pgValues(params []any) []witPG.Value {
	values := make([]witPG.Value, len(params))
	for i, param := range params {
		switch v := param.(type) {
		case nil:
			values[i] = witPG.MakeValueNull()
		case bool:
			values[i] = witPG.MakeValueBoolean(v)
		case int:
			values[i] = witPG.MakeValueInt(int64(v))
		case int8:
			values[i] = witPG.MakeValueInt(int64(v))
		case int16:
			values[i] = witPG.MakeValueInt(int64(v))
		case int32:
			values[i] = witPG.MakeValueInt(int64(v))
		case int64:
			values[i] = witPG.MakeValueInt(v)
		case uint8:
			values[i] = witPG.MakeValueInt(int64(v))
		case uint16:
			values[i] = witPG.MakeValueInt(int64(v))
		case uint32:
			values[i] = witPG.MakeValueInt(int64(v))
		case uint:
			values[i] = pgUnsigned(uint64(v))
		case uint64:
			values[i] = pgUnsigned(v)
		case time.Time:
			values[i] = witPG.MakeValueText(v.Format(time.RFC3339Nano))
		case float32:
			values[i] = witPG.MakeValueFloat(float64(v))
		case float64:
			values[i] = witPG.MakeValueFloat(v)
		case []byte:
			values[i] = witPG.MakeValueBytes(v)
		case string:
			values[i] = witPG.MakeValueText(v)
		default:
			values[i] = witPG.MakeValueText(fmt.Sprint(v))
		}
	}
	return values
}

func pgUnsigned(v uint64) witPG.Value {
	if v > math.MaxInt64 {
		return witPG.MakeValueText(strconv.FormatUint(v, 10))
	}
	return witPG.MakeValueInt(int64(v))
}

func pgRows(op string, result witTypes.Result[witPG.Rows, witPG.Error]) (*PGRows, error) {
	if result.IsErr() {
		return nil, pgError(op, result.Err())
	}
	answer := result.Ok()
	rows := &PGRows{Columns: answer.Columns, Rows: make([][]any, len(answer.Rows))}
	for i, row := range answer.Rows {
		rows.Rows[i] = make([]any, len(row))
		for j, value := range row {
			switch value.Tag() {
			case witPG.Value_Boolean:
				rows.Rows[i][j] = value.Boolean()
			case witPG.Value_Int:
				rows.Rows[i][j] = value.Int()
			case witPG.Value_Float:
				rows.Rows[i][j] = value.Float()
			case witPG.Value_Text:
				rows.Rows[i][j] = value.Text()
			case witPG.Value_Bytes:
				rows.Rows[i][j] = value.Bytes()
			}
		}
	}
	return rows, nil
}

func pgCount(op string, result witTypes.Result[uint64, witPG.Error]) (uint64, error) {
	if result.IsErr() {
		return 0, pgError(op, result.Err())
	}
	return result.Ok(), nil
}

func pgDone(op string, result witTypes.Result[witTypes.Unit, witPG.Error]) error {
	if result.IsErr() {
		return pgError(op, result.Err())
	}
	return nil
}

func (c *PGConn) options(name string) witPG.StatementOptions {
	options := witPG.StatementOptions{Name: witTypes.None[string](), TimeoutUs: c.timeout}
	if name != "" {
		options.Name = witTypes.Some(name)
	}
	return options
}

func (c *PGConn) closed(op string) error {
	return &PostgresError{Err: errClosed(op)}
}

// Query runs sql and returns its rows; the event is named by the text.
func (c *PGConn) Query(sql string, params ...any) (*PGRows, error) {
	return c.QueryNamed("", sql, params...)
}

// QueryNamed runs sql as an event named name.
func (c *PGConn) QueryNamed(name, sql string, params ...any) (*PGRows, error) {
	if c.handle == nil {
		return nil, c.closed(sql)
	}
	return pgRows(sql, c.handle.Query(sql, pgValues(params), c.options(name)))
}

// Execute runs sql and returns how many rows it changed.
func (c *PGConn) Execute(sql string, params ...any) (uint64, error) {
	return c.ExecuteNamed("", sql, params...)
}

// ExecuteNamed runs sql as an event named name.
func (c *PGConn) ExecuteNamed(name, sql string, params ...any) (uint64, error) {
	if c.handle == nil {
		return 0, c.closed(sql)
	}
	return pgCount(sql, c.handle.Execute(sql, pgValues(params), c.options(name)))
}

// Prepare prepares sql once (one event named "PREPARE name"); its runs are
// events named name.
func (c *PGConn) Prepare(name, sql string) (*PGStatement, error) {
	if c.handle == nil {
		return nil, c.closed(sql)
	}
	result := c.handle.Prepare(sql, c.options(name))
	if result.IsErr() {
		return nil, pgError(sql, result.Err())
	}
	return &PGStatement{handle: result.Ok(), op: sql, timeout: c.timeout}, nil
}

// Begin, Commit and Rollback are each one event.
func (c *PGConn) Begin() error {
	if c.handle == nil {
		return c.closed("BEGIN")
	}
	return pgDone("BEGIN", c.handle.Begin())
}

// Commit ends the transaction, keeping its changes.
func (c *PGConn) Commit() error {
	if c.handle == nil {
		return c.closed("COMMIT")
	}
	return pgDone("COMMIT", c.handle.Commit())
}

// Rollback ends the transaction, undoing its changes.
func (c *PGConn) Rollback() error {
	if c.handle == nil {
		return c.closed("ROLLBACK")
	}
	return pgDone("ROLLBACK", c.handle.Rollback())
}

// Transaction runs work between BEGIN and COMMIT, or ROLLBACK when work
// returns an error (which it then returns).
func (c *PGConn) Transaction(work func() error) error {
	if err := c.Begin(); err != nil {
		return err
	}
	if err := work(); err != nil {
		if rollback := c.Rollback(); rollback != nil {
			return fmt.Errorf("%w (and the rollback failed: %v)", err, rollback)
		}
		return err
	}
	return c.Commit()
}

// Close closes the connection (and its prepared statements' use).
func (c *PGConn) Close() {
	if c.handle != nil {
		c.handle.Drop()
		c.handle = nil
	}
}

// Query runs the statement and returns its rows.
func (s *PGStatement) Query(params ...any) (*PGRows, error) {
	if s.handle == nil {
		return nil, &PostgresError{Err: errClosed(s.op)}
	}
	return pgRows(s.op, s.handle.Query(pgValues(params), s.timeout))
}

// Execute runs the statement and returns how many rows it changed.
func (s *PGStatement) Execute(params ...any) (uint64, error) {
	if s.handle == nil {
		return 0, &PostgresError{Err: errClosed(s.op)}
	}
	return pgCount(s.op, s.handle.Execute(pgValues(params), s.timeout))
}

// Close releases the statement (the host's and the server's copy).
func (s *PGStatement) Close() {
	if s.handle != nil {
		s.handle.Drop()
		s.handle = nil
	}
}
