package wasmload

import (
	"fmt"
	"strings"
	"time"

	witContext "wasmload/internal/bindings/imports/wasmload_user_context"
)

// Level is the severity of a log line.
type Level uint8

// The levels of Log.
const (
	LevelDebug Level = Level(witContext.Level_Debug)
	LevelInfo  Level = Level(witContext.Level_Info)
	LevelWarn  Level = Level(witContext.Level_Warn)
	LevelError Level = Level(witContext.Level_Error)
)

// UserID is this user's number, 0-based and unique within the run.
func UserID() uint64 { return witContext.UserId() }

// Sleep suspends this user (never a thread) for this long.
func Sleep(duration time.Duration) { witContext.Sleep(micros(duration)) }

// Now is the monotonic time since the run started.
func Now() time.Duration { return time.Duration(witContext.NowUs()) * time.Microsecond }

// Random is a number from this user's generator, seeded from --seed.
func Random() uint64 { return witContext.Random() }

// RandomRange is a random number in [low, high) (low when the range is
// empty).
func RandomRange(low, high uint64) uint64 {
	if high <= low {
		return low
	}
	return low + Random()%(high-low)
}

// Param is the run parameter given with -e KEY=VALUE.
func Param(key string) (string, bool) {
	value := witContext.Param(key)
	if value.IsNone() {
		return "", false
	}
	return value.Some(), true
}

// ParamOr is the run parameter key, or fallback when it is not given.
func ParamOr(key, fallback string) string {
	if value, ok := Param(key); ok {
		return value
	}
	return fallback
}

// Host is the run's --host, as given.
func Host() (string, bool) {
	host := witContext.Host()
	if host.IsNone() {
		return "", false
	}
	return host.Some(), true
}

// HostAddress is the host:port of --host, for the socket protocols
// (--host tcp://127.0.0.1:6379 gives 127.0.0.1:6379).
func HostAddress() (string, bool) {
	host, ok := Host()
	if !ok {
		return "", false
	}
	if _, rest, found := strings.Cut(host, "://"); found {
		host = rest
	}
	host, _, _ = strings.Cut(host, "/")
	return host, host != ""
}

// Log writes a line to the run's log, tagged with this user. (What the
// user prints to stdout or stderr goes there too.)
// Levels above LevelError are logged as errors.
func Log(level Level, message string) {
	witContext.Log(witContext.Level(min(level, LevelError)), message)
}

// Logf is Log with fmt.Sprintf's formatting.
func Logf(level Level, format string, args ...any) { Log(level, fmt.Sprintf(format, args...)) }
