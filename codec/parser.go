package codec

// Limits bounds what a peer may send. The zero value means no limits; the
// engine always sets them. Limits are read-only once shared.
type Limits struct {
	MaxFrameSize   int64 // largest frame payload in bytes; 0 means no limit
	MaxMessageSize int64 // largest message (all fragments) in bytes, as received; 0 means no limit
	MaxFragments   int   // most frames in one fragmented message; 0 means no limit
}

// Parser reads client frames from byte slices and enforces RFC 6455 across
// them: masking, reserved bits and opcodes, control frame rules, the order of
// fragments, close payloads, UTF-8 of text (fail fast, across fragments) and
// the size limits. It keeps the state of the message being received.
//
// A Parser belongs to one connection and is used by that connection's event
// loop only; it is not safe for concurrent use. The zero value is ready; set
// Deflate when permessage-deflate was negotiated.
type Parser struct {
	Deflate bool // permessage-deflate negotiated: RSV1 allowed on a message's first frame

	msgOp      OpCode // opcode of the fragmented message in progress, 0 when none
	compressed bool   // the message in progress has RSV1 set
	fragments  int32  // frames received in the message in progress
	msgLen     int64  // payload bytes received in the message in progress
	utf8       UTF8   // validator for an uncompressed text message
}

// Next parses the frame at the start of b, unmasks its payload in place and
// checks it against the protocol state.
//
// It returns the frame and its length n. With ErrNeedMore nothing is
// consumed and the state is unchanged; n is then the whole frame's length
// when the header was complete (so the caller can wait for that many bytes)
// or 0. Limits are checked from the header alone, before the payload is
// buffered. Any other error is a *ProtocolError: fail the connection with its
// code.
func (p *Parser) Next(b []byte, lim *Limits) (f Frame, n int, err error) {
	h, hn, err := ParseHeader(b)
	if err != nil {
		return f, 0, err
	}
	if err := p.check(h, lim); err != nil {
		return f, 0, err
	}
	total := int64(hn) + h.Length
	if int64(len(b)) < total {
		return Frame{Header: h}, int(total), ErrNeedMore
	}
	f = Frame{Header: h, Payload: b[hn:total:total]}
	Unmask(f.Payload, h.Mask, 0)
	if err := p.advance(&f); err != nil {
		return f, 0, err
	}
	return f, int(total), nil
}

// check validates a header against the state and limits without changing
// the state.
func (p *Parser) check(h Header, lim *Limits) error {
	if !h.Masked {
		return ErrUnmasked
	}
	if h.Rsv&^Rsv1 != 0 || (h.Rsv&Rsv1 != 0 && !p.Deflate) {
		return ErrReservedBits
	}
	if h.OpCode.IsReserved() {
		return ErrReservedOpCode
	}
	if h.OpCode.IsControl() {
		switch {
		case h.Length > MaxControlPayload:
			return ErrControlTooLong
		case !h.Fin:
			return ErrControlFragmented
		case h.Rsv != 0:
			return ErrCompressedControl
		}
		return nil
	}
	if h.OpCode == OpContinuation {
		if p.msgOp == 0 {
			return ErrContinuationNoStart
		}
		if h.Rsv != 0 {
			return ErrCompressedContinue
		}
	} else if p.msgOp != 0 {
		return ErrDataInFragmented
	}
	if lim.MaxFrameSize > 0 && h.Length > lim.MaxFrameSize {
		return ErrFrameTooBig
	}
	if lim.MaxMessageSize > 0 && p.msgLen+h.Length > lim.MaxMessageSize {
		return ErrMessageTooBig
	}
	if lim.MaxFragments > 0 && !h.Fin && int(p.fragments)+1 >= lim.MaxFragments {
		return ErrTooManyFragments
	}
	return nil
}

// advance updates the message state with a whole, unmasked frame.
func (p *Parser) advance(f *Frame) error {
	f.Message = f.OpCode
	if f.OpCode.IsControl() {
		if f.OpCode == OpClose {
			if _, _, err := ParseClose(f.Payload); err != nil {
				return err
			}
		}
		return nil
	}
	if f.OpCode != OpContinuation {
		p.msgOp = f.OpCode
		p.compressed = f.Rsv&Rsv1 != 0
		p.utf8.Reset()
	}
	f.Message, f.Compressed = p.msgOp, p.compressed
	p.fragments++
	p.msgLen += f.Length
	if p.msgOp == OpText && !p.compressed {
		if !p.utf8.Write(f.Payload) || (f.Fin && !p.utf8.Complete()) {
			return ErrInvalidUTF8
		}
	}
	if f.Fin {
		p.msgOp, p.fragments, p.msgLen = 0, 0, 0
	}
	return nil
}

// InMessage reports whether a fragmented message is in progress, and its
// opcode and compression.
func (p *Parser) InMessage() (op OpCode, compressed bool, ok bool) {
	return p.msgOp, p.compressed, p.msgOp != 0
}
