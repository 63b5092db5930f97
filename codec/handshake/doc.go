// Package handshake runs the HTTP/1.1 upgrade to WebSocket (RFC 6455 section
// 4.2) for a server on an event loop, on a request head held in a byte slice.
//
// It owns no connection, does no I/O of its own beyond one Write per
// handshake, starts no goroutines and never logs. The engine buffers what the
// client sends until FindHead reports a complete head (or ErrHeadTooLarge),
// then calls Upgrader.Upgrade with exactly that head. Upgrade runs
// github.com/gobwas/ws's Upgrader over it, checks the path, Origin and
// subprotocols, negotiates permessage-deflate (RFC 7692, both
// no_context_takeover, so compressors can be shared per loop) and writes
// either the 101 response or an HTTP error, with the status of the returned
// *Error. AppendResponse builds the same plain error responses for refusals
// the engine makes itself (431, 429, 503).
//
// Statuses: a method other than GET, a malformed request, a missing or bad
// Host, Upgrade, Connection, Sec-WebSocket-Key or Sec-WebSocket-Version
// header get 400; HTTP/1.0 gets 400 and another major version 505; a
// Sec-WebSocket-Version other than 13 gets 426 with "Sec-WebSocket-Version:
// 13"; an unknown path 404; a disallowed Origin 403; a head over the cap 431.
//
// An Upgrader keeps the state of the request in progress and is used by one
// event loop only; FindHead, AppendResponse and Request are safe anywhere.
//
//	n, err := handshake.FindHead(buf, handshake.DefaultMaxHeadSize)
//	switch {
//	case err != nil: // write err.(*handshake.Error).AppendResponse(nil), then close
//	case n == 0: // wait for more bytes
//	default:
//		req, err := upgrader.Upgrade(buf[:n], conn) // writes 101 or the error
//		if err != nil { close after flushing }
//		token := req.QueryValue("token")
//	}
package handshake
