package deflate

import (
	"github.com/gobwas/ws"

	"github.com/bellhop/bellhop/codec"
)

// ErrCorrupt reports a compressed message that is not valid DEFLATE data
// (RFC 1951): a bad block type, a bad Huffman table, a distance before the
// start of the message, or data cut short. The connection must be failed with
// close code 1007 (invalid frame payload data); use codec.CloseCode to get it.
var ErrCorrupt = &codec.ProtocolError{
	Code:   ws.StatusInvalidFramePayloadData,
	Reason: "deflate: corrupt compressed data",
}

// ErrMessageTooBig reports a compressed message whose inflated size exceeds
// the caller's limit. It is codec.ErrMessageTooBig (close code 1009), so the
// engine handles an oversized inflated message exactly as an oversized
// uncompressed one.
var ErrMessageTooBig = codec.ErrMessageTooBig
