package dispatch

import (
	"errors"

	"github.com/bellhop/bellhop/codec"
)

// Code is a stable error code carried by an ERROR event. Clients switch on
// it; the message next to it is for people.
type Code string

// Error codes. docs/PROTOCOL.md lists them with what a client should do.
const (
	CodeBadMessage        Code = "BAD_MESSAGE"        // not a JSON envelope, or too big or deep
	CodeUnknownEvent      Code = "UNKNOWN_EVENT"      // event not known, or not sent by clients
	CodeInvalidPayload    Code = "INVALID_PAYLOAD"    // payload missing fields or wrong types
	CodeBadNamespace      Code = "BAD_NAMESPACE"      // namespace unknown
	CodeAuthRequired      Code = "AUTH_REQUIRED"      // send AUTH first
	CodeAuthFailed        Code = "AUTH_FAILED"        // token refused
	CodeTokenExpired      Code = "TOKEN_EXPIRED"      // token expired
	CodeForbidden         Code = "FORBIDDEN"          // the role may not do this (or not for this room)
	CodeIllegalTransition Code = "ILLEGAL_TRANSITION" // room status change not allowed
	CodeVersionConflict   Code = "VERSION_CONFLICT"   // the record changed meanwhile; reload and retry
	CodeNotFound          Code = "NOT_FOUND"          // no such room or request
	CodeNoStaff           Code = "NO_STAFF_AVAILABLE" // nobody can take the request now; it was escalated
	CodeRateLimited       Code = "RATE_LIMITED"       // too many messages
	CodeOverloaded        Code = "OVERLOADED"         // the node is busy; retry with backoff
	CodeUnavailable       Code = "UNAVAILABLE"        // the store or broker is unreachable
	CodeInternal          Code = "INTERNAL"           // a bug; reported in the logs
)

// Close codes the dispatch layer sends (the engine adds 4008, slow
// consumer). The README and docs/PROTOCOL.md list them all.
const (
	CloseAuthRequired codec.StatusCode = 4001 // no valid AUTH within the auth timeout, or the token was refused
	CloseTokenExpired codec.StatusCode = 4002 // the token expired and no new AUTH refreshed it
	CloseForbidden    codec.StatusCode = 4003 // the token was revoked or its role lost access
	CloseFlood        codec.StatusCode = 4029 // too many bad messages in a row
)

// Error is a failure shown to the client as an ERROR event.
type Error struct {
	Code    Code
	Message string
}

// Error implements error.
func (e *Error) Error() string { return "dispatch: " + string(e.Code) + ": " + e.Message }

func newError(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// asError maps err to what the client sees; errors of ours keep their
// code, anything else is internal.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return newError(CodeInternal, "internal error")
}

// Sentinel errors of the package.
var (
	ErrClosed = errors.New("dispatch: closed")
)
