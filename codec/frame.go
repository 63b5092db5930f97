package codec

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// OpCode is a frame's operation code (RFC 6455 section 5.2).
type OpCode = ws.OpCode

// StatusCode is a close code (RFC 6455 section 7.4).
type StatusCode = ws.StatusCode

// Header is a parsed frame header.
type Header = ws.Header

// Operation codes.
const (
	OpContinuation = ws.OpContinuation
	OpText         = ws.OpText
	OpBinary       = ws.OpBinary
	OpClose        = ws.OpClose
	OpPing         = ws.OpPing
	OpPong         = ws.OpPong
)

// Header bits and sizes.
const (
	bitFin  = 0x80
	bitRsv1 = 0x40
	bitRsv2 = 0x20
	bitRsv3 = 0x10
	bitMask = 0x80

	// MaxHeaderSize is the longest frame header: 2 bytes, an 8-byte length and a 4-byte mask.
	MaxHeaderSize = 14
	// MaxControlPayload is the largest payload a control frame may carry.
	MaxControlPayload = 125
)

// Rsv1 is the RSV1 bit as it appears in Header.Rsv; permessage-deflate uses it
// to mark a compressed message.
const Rsv1 byte = 0x4

// Frame is one parsed frame. Payload points into the caller's buffer and, for
// client frames, has already been unmasked in place.
type Frame struct {
	Header
	Payload    []byte // unmasked payload, aliasing the parsed buffer
	Message    OpCode // OpText or OpBinary for data frames (continuations too), else the control opcode
	Compressed bool   // the message has RSV1 set: inflate it once the last fragment arrived
}

// ParseHeader parses a frame header at the start of b. It returns the header
// and its length, or ErrNeedMore when b is shorter than the header, or
// ErrLengthEncoding when the 64-bit length has its top bit set. It does not
// validate the header against the protocol state; Parser.Next does that.
func ParseHeader(b []byte) (h Header, n int, err error) {
	if len(b) < 2 {
		return h, 0, ErrNeedMore
	}
	b0, b1 := b[0], b[1]
	h.Fin = b0&bitFin != 0
	h.Rsv = (b0 & (bitRsv1 | bitRsv2 | bitRsv3)) >> 4
	h.OpCode = OpCode(b0 & 0x0f)
	h.Masked = b1&bitMask != 0
	n = 2
	switch l := b1 & 0x7f; l {
	case 126:
		if len(b) < 4 {
			return h, 0, ErrNeedMore
		}
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		n = 4
	case 127:
		if len(b) < 10 {
			return h, 0, ErrNeedMore
		}
		u := binary.BigEndian.Uint64(b[2:10])
		if u>>63 != 0 {
			return h, 0, ErrLengthEncoding
		}
		h.Length = int64(u)
		n = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, ErrNeedMore
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}

// HeaderSize returns the encoded size of a header with the given payload
// length, masked or not.
func HeaderSize(length int, masked bool) int {
	n := 2
	switch {
	case length > 0xffff:
		n = 10
	case length > 125:
		n = 4
	}
	if masked {
		n += 4
	}
	return n
}

// AppendHeader appends the encoding of h to dst.
func AppendHeader(dst []byte, h Header) []byte {
	b0 := byte(h.OpCode) | h.Rsv<<4
	if h.Fin {
		b0 |= bitFin
	}
	var b1 byte
	if h.Masked {
		b1 = bitMask
	}
	switch {
	case h.Length > 0xffff:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(h.Length))
	case h.Length > 125:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.Length))
	default:
		dst = append(dst, b0, b1|byte(h.Length))
	}
	if h.Masked {
		dst = append(dst, h.Mask[:]...)
	}
	return dst
}

// AppendFrame appends a whole unmasked server frame (FIN set) carrying payload
// to dst. With compressed set it marks the frame with RSV1; the payload must
// then already be deflated. The result can be written to any number of
// connections.
func AppendFrame(dst []byte, op OpCode, payload []byte, compressed bool) []byte {
	h := Header{Fin: true, OpCode: op, Length: int64(len(payload))}
	if compressed {
		h.Rsv = Rsv1
	}
	dst = AppendHeader(dst, h)
	return append(dst, payload...)
}

// AppendClientFrame appends a masked frame as a client sends it. The payload
// is copied and masked in dst; payload itself is left unchanged.
func AppendClientFrame(dst []byte, h Header, payload []byte) []byte {
	h.Masked = true
	h.Length = int64(len(payload))
	dst = AppendHeader(dst, h)
	start := len(dst)
	dst = append(dst, payload...)
	ws.Cipher(dst[start:], h.Mask, 0)
	return dst
}

// Unmask XORs payload in place with mask, starting at the given offset into
// the mask stream. It uses gobwas/ws's SIMD kernel.
func Unmask(payload []byte, mask [4]byte, offset int) {
	ws.Cipher(payload, mask, offset)
}
