package electionclient

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The causes of a Leadership's or a Session's end (context.Cause of
// Context, and Err).
var (
	// ErrLost is matched by every cause of an end the program did not ask
	// for: it must stop acting as leader.
	ErrLost = errors.New("electionclient: leadership lost")
	// ErrExpired: no heartbeat succeeded within the trusted part of the
	// TTL (the servers could not be reached, or answered too late).
	ErrExpired = fmt.Errorf("%w: not renewed within the trusted part of the TTL", ErrLost)
	// ErrDeposed: a server said this node no longer holds the lease under
	// its term.
	ErrDeposed = fmt.Errorf("%w: the server says this node no longer holds the lease under its term", ErrLost)
	// ErrResigned: Resign ended the leadership.
	ErrResigned = errors.New("electionclient: resigned")
	// ErrSessionGone: a server said the session has ended (closed, or
	// judged lapsed): it and every election held under it are lost.
	ErrSessionGone = fmt.Errorf("%w: the server says the session is gone", ErrLost)
	// ErrSessionClosed: Session.Close ended the session, and every
	// leadership held under it.
	ErrSessionClosed = errors.New("electionclient: session closed")
)

// retryable reports whether a call that failed with err may succeed if
// tried again, on this server or another.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted:
		return true
	}
	return false
}

// describe names the cause of a permanent error for people.
func describe(err error) string {
	var refusal *tlsError
	if errors.As(err, &refusal) {
		return refusal.Error()
	}
	s, ok := status.FromError(err)
	if !ok {
		return err.Error()
	}
	switch s.Code() {
	case codes.Unauthenticated:
		return "the server refused the token (Unauthenticated): " + s.Message()
	case codes.InvalidArgument:
		return "the server refused the request (InvalidArgument): " + s.Message()
	case codes.PermissionDenied:
		return "permission denied: " + s.Message()
	case codes.Unimplemented:
		return "the server does not serve leaderelection.v1 (Unimplemented): " + s.Message()
	}
	return fmt.Sprintf("%s: %s", s.Code(), s.Message())
}

// CallError is a call that failed for good: retrying cannot mend it. It
// wraps the gRPC status error (status.Code works on it), and for a TLS
// refusal one of the TLS sentinels (ErrTLS).
type CallError struct {
	Op     string // "campaign", "heartbeat", "resign", "leader", "observe", "session", "keepalive", "close"
	Server string
	Err    error
}

func (e *CallError) Error() string {
	return fmt.Sprintf("electionclient: %s on %s: %s", e.Op, e.Server, describe(e.Err))
}

func (e *CallError) Unwrap() error { return e.Err }
