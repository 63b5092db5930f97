package bench

import (
	"sync/atomic"
)

// ErrorKind classifies what went wrong with one connection or operation.
type ErrorKind uint8

// Error kinds, in the order reports list them.
const (
	KindDial      ErrorKind = iota // TCP connect (or enrolment into the event loop) failed
	KindTLS                        // TLS handshake failed
	KindHandshake                  // the upgrade was refused or its answer was invalid
	KindTimeout                    // TCP, TLS and upgrade did not finish within the handshake timeout
	KindClosed                     // the server closed a connection still in use
	KindProtocol                   // the server broke RFC 6455
	KindMismatch                   // an echo differed from what was sent
	KindWrite                      // a write failed
	numKinds
)

var kindNames = [numKinds]string{"dial", "tls", "handshake", "timeout", "closed", "protocol", "mismatch", "write"}

// String returns the kind's name as used in results.
func (k ErrorKind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "unknown"
}

// Stats are the live counters of one run. Event loops, dial workers and the
// progress printer share them; every field is atomic, so Stats is safe for
// concurrent use. The zero value is ready.
type Stats struct {
	Upgraded atomic.Int64 // handshakes that completed
	Open     atomic.Int64 // connections upgraded and not closed yet
	Ops      atomic.Int64 // scenario operations completed (round trips, deliveries)

	errs  [numKinds]atomic.Int64
	first atomic.Pointer[string] // first error seen, for the report
	phase atomic.Pointer[string] // what the run is doing, for the progress line
}

// AddError counts one failure of the given kind and remembers the first
// error's text.
func (s *Stats) AddError(kind ErrorKind, err error) {
	if kind >= numKinds {
		kind = KindProtocol
	}
	s.errs[kind].Add(1)
	if err != nil && s.first.Load() == nil {
		msg := kind.String() + ": " + err.Error()
		s.first.CompareAndSwap(nil, &msg)
	}
}

// Errors returns the total number of failures.
func (s *Stats) Errors() int64 {
	var n int64
	for i := range s.errs {
		n += s.errs[i].Load()
	}
	return n
}

// ErrorCounts returns the non-zero counts by kind name, or nil when there
// were none.
func (s *Stats) ErrorCounts() map[string]int64 {
	var m map[string]int64
	for i := range s.errs {
		if n := s.errs[i].Load(); n != 0 {
			if m == nil {
				m = make(map[string]int64)
			}
			m[ErrorKind(i).String()] = n
		}
	}
	return m
}

// FirstError returns the text of the first error, or "".
func (s *Stats) FirstError() string {
	if p := s.first.Load(); p != nil {
		return *p
	}
	return ""
}

// SetPhase names what the run does now (connecting, measuring, draining).
func (s *Stats) SetPhase(name string) { s.phase.Store(&name) }

// Phase returns the name set by SetPhase, or "".
func (s *Stats) Phase() string {
	if p := s.phase.Load(); p != nil {
		return *p
	}
	return ""
}
