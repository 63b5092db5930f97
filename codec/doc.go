// Package codec implements the WebSocket protocol (RFC 6455) on byte slices.
//
// It owns no connections, starts no goroutines and never logs. The engine hands
// it the bytes it has read; codec tells it how many it consumed, what the frames
// said and, when the peer broke the protocol, which close code to answer with.
//
// Parsing is zero-copy: a [Frame] returned by [Parser.Next] points into the
// caller's buffer, and its payload has been unmasked in place. When the buffer
// holds only part of a frame, Next returns [ErrNeedMore] and consumes nothing,
// so the caller keeps the bytes (in gnet's inbound ring) and calls again when
// more arrive.
//
// Writing builds a whole frame (header and payload) in one slice with
// [AppendFrame], so the same bytes can be written to many connections.
//
// Sub-packages: codec/handshake runs the HTTP upgrade on a complete request
// head, codec/deflate implements permessage-deflate (RFC 7692).
//
// A Parser is per-connection state and is not safe for concurrent use; all
// other functions are pure.
//
//	var p codec.Parser
//	for {
//		f, n, err := p.Next(buf, &limits)
//		if err == codec.ErrNeedMore { break }          // keep buf, wait for more
//		if err != nil { close with codec.CloseCode(err) }
//		buf = buf[n:]
//		handle(f)
//	}
package codec
