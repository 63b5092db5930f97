package certgen

import "errors"

// Errors returned by Generate for bad arguments. Generate wraps them with the
// offending value where there is one, so compare with errors.Is.
var (
	// ErrNoHosts reports an empty host list: a certificate must name at least
	// one host or address, or no client can verify it.
	ErrNoHosts = errors.New("certgen: no hosts given")
	// ErrBadHost reports a host that is neither an IP address nor a DNS name,
	// such as an empty string or a host with a port.
	ErrBadHost = errors.New("certgen: invalid host")
	// ErrBadValidity reports a validity period that is zero or negative.
	ErrBadValidity = errors.New("certgen: validity must be positive")
)
