// Package deflate implements permessage-deflate (RFC 7692) message
// compression on byte slices, with github.com/klauspost/compress/flate.
//
// It owns no connections, starts no goroutines and never logs. It supports
// only what codec/handshake negotiates: server_no_context_takeover and
// client_no_context_takeover. Every message is therefore compressed and
// inflated on its own, with no window carried from one message to the next,
// so one Compressor and one Decompressor serve every connection of an event
// loop: memory does not grow with the number of connections, and a broadcast
// is compressed once and its bytes written to every subscriber.
//
// A compressed message travels in frames whose first has RSV1 set; the
// engine reassembles the fragments and hands the whole payload to
// Decompressor.Append. On the way out, Compressor.Append produces the whole
// payload, which the engine frames with codec.AppendFrame(dst, op, p, true).
// Worth decides whether a message is big enough to be worth the CPU.
//
// Decompressor.Append takes a limit on the inflated size and stops as soon as
// it is passed (ErrMessageTooBig, close code 1009), so a small message that
// inflates to gigabytes (a zip bomb) costs no more than the limit. Invalid
// DEFLATE data returns ErrCorrupt (close code 1007). Both are
// *codec.ProtocolError values; codec.CloseCode maps them to their close code.
//
// A Compressor or Decompressor belongs to one goroutine (an event loop, or a
// worker that encodes broadcasts) and is not safe for concurrent use. Worth
// is a pure function.
//
//	c, d := deflate.NewCompressor(), deflate.NewDecompressor() // once per loop
//
//	// Sending:
//	if deflate.Worth(len(msg), threshold) {
//		p := c.Append(buf[:0], msg)
//		out = codec.AppendFrame(out, codec.OpText, p, true)
//	}
//
//	// Receiving a message with RSV1 set:
//	msg, err := d.Append(buf[:0], payload, maxMessageSize)
//	if err != nil { close with codec.CloseCode(err) } // 1007 or 1009
package deflate
