package bench

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/panjf2000/gnet/v2"

	"github.com/bellhop/bellhop/codec"
)

// events is the gnet handler of a Client. Every callback runs on the event
// loop that owns the connection.
type events struct {
	gnet.BuiltinEventEngine
	cl *Client
}

// tlsReadChunk is the free space kept in the plaintext buffer for one TLS
// read: a whole record.
const tlsReadChunk = 16 << 10

// errCloseDone ends a connection whose close handshake completed.
var errCloseDone = errors.New("bench: close handshake done")

// OnOpen attaches the gnet conn to the Conn the worker built. For wss it
// moves the TLS session, handshaken by the worker, onto the gnet conn in
// non-blocking mode.
func (e *events) OnOpen(g gnet.Conn) ([]byte, gnet.Action) {
	c, ok := g.Context().(*Conn)
	if !ok {
		return nil, gnet.Close
	}
	c.g = g
	if c.tc != nil {
		c.tc.ResetConn(g, true)
	}
	return nil, gnet.None
}

// OnTraffic reads what arrived and handles every whole frame in it.
func (e *events) OnTraffic(g gnet.Conn) gnet.Action {
	c, ok := g.Context().(*Conn)
	if !ok || c.state == stateClosed {
		return gnet.Close
	}
	c.out = getBuf()
	var err error
	if c.tc == nil {
		buf, _ := g.Peek(-1)
		var n int
		n, err = c.consume(buf)
		if n > 0 { // Discard(0) would drop everything, partial frame included
			_, _ = g.Discard(n)
		}
	} else {
		err = c.readTLS()
	}
	c.flush()
	if err != nil || c.state == stateClosing && !c.closedByUs {
		return gnet.Close
	}
	return gnet.None
}

// OnClose ends the connection's life: the worker or the handler hears why.
func (e *events) OnClose(g gnet.Conn, err error) gnet.Action {
	c, ok := g.Context().(*Conn)
	if !ok {
		return gnet.None
	}
	c.closed(err)
	return gnet.None
}

// closed runs once, when the transport is gone.
func (c *Conn) closed(err error) {
	prev := c.state
	if prev == stateHandshake {
		c.fail(KindHandshake, closedErr("before the upgrade answer", err))
	} else if prev == stateOpen {
		c.fail(KindClosed, closedErr("", err))
	}
	c.state = stateClosed
	c.release()
	if !c.upgraded {
		return
	}
	c.cli.open.Add(-1)
	c.cli.stats.Open.Add(-1)
	why := c.err
	if c.closedByUs || errors.Is(why, errCloseDone) || c.cli.closing.Load() && errors.Is(why, ErrPeerClosed) {
		why = nil
	}
	c.cli.cfg.Handler.OnClose(c, why)
}

func closedErr(when string, err error) error {
	switch {
	case err != nil && when != "":
		return fmt.Errorf("%w %s: %v", ErrPeerClosed, when, err)
	case err != nil:
		return fmt.Errorf("%w: %v", ErrPeerClosed, err)
	case when != "":
		return fmt.Errorf("%w %s", ErrPeerClosed, when)
	}
	return ErrPeerClosed
}

func (c *Conn) release() {
	if c.plain != nil {
		putBuf(c.plain)
		c.plain = nil
	}
	if c.frag != nil {
		putBuf(c.frag)
		c.frag = nil
	}
}

// readTLS decrypts what arrived into the plaintext buffer and consumes the
// whole frames in it; a partial frame stays for the next read.
func (c *Conn) readTLS() error {
	in, _ := c.g.Next(-1)
	if _, err := c.tc.Append(in); err != nil {
		c.fail(KindTLS, err)
		return err
	}
	for {
		if c.plain == nil {
			c.plain = getBuf()
		}
		p := *c.plain
		p = slices.Grow(p, tlsReadChunk)
		n, err := c.tc.Read(p[len(p):cap(p)])
		*c.plain = p[:len(p)+n]
		if err != nil {
			kind := KindTLS
			if errors.Is(err, io.EOF) {
				kind = KindClosed
				err = closedErr("with TLS close_notify", nil)
			}
			c.fail(kind, err)
			return err
		}
		if n == 0 {
			break
		}
	}
	n, err := c.consume(*c.plain)
	rest := (*c.plain)[:copy(*c.plain, (*c.plain)[n:])]
	*c.plain = rest
	if len(rest) == 0 {
		putBuf(c.plain)
		c.plain = nil
	}
	return err
}

// consume handles the upgrade answer and whole frames at the start of b and
// returns how many bytes it used.
func (c *Conn) consume(b []byte) (int, error) {
	n := 0
	if c.state == stateHandshake {
		m, err := readUpgradeResponse(b, &c.nonce, c.cli.cfg.Protocol)
		if err != nil {
			c.fail(KindHandshake, err)
			return len(b), err
		}
		if m == 0 {
			return 0, nil
		}
		n = m
		if err := c.upgrade(); err != nil {
			c.fail(KindHandshake, err)
			return len(b), err
		}
	}
	for c.state == stateOpen || c.state == stateClosing {
		h, payload, m, err := readFrame(b[n:], c.cli.cfg.MaxFrame)
		if err == codec.ErrNeedMore {
			break
		}
		if err != nil {
			c.fail(KindProtocol, err)
			return len(b), err
		}
		n += m
		if err := c.frame(h, payload); err != nil {
			return len(b), err
		}
	}
	return n, nil
}

// frame handles one server frame.
func (c *Conn) frame(h codec.Header, payload []byte) error {
	switch h.OpCode {
	case codec.OpPing:
		if c.state == stateOpen {
			c.queue(codec.OpPong, payload)
		}
	case codec.OpPong:
	case codec.OpClose:
		return c.peerClose(payload)
	default:
		if c.state == stateOpen {
			return c.data(h, payload)
		}
	}
	return nil
}

// peerClose answers the server's close frame (unless we started the close)
// and ends the connection.
func (c *Conn) peerClose(payload []byte) error {
	if c.state == stateClosing {
		// The server answered our close. It closes the TCP connection
		// first (RFC 6455 section 7.1.1), so TIME_WAIT stays on its side
		// and our source ports are free again at once; OnClose follows.
		c.fail(KindClosed, errCloseDone)
		return nil
	}
	code, _, err := codec.ParseClose(payload)
	if err != nil {
		c.fail(KindProtocol, fmt.Errorf("%w: %v", ErrProtocol, err))
		return err
	}
	reply := payload[:min(len(payload), 2)]
	if code == codec.CloseNoStatus {
		reply = nil
	}
	c.queue(codec.OpClose, reply)
	err = fmt.Errorf("%w with code %d", ErrPeerClosed, code)
	c.fail(KindClosed, err)
	return err
}

// data delivers a message, joining fragments first.
func (c *Conn) data(h codec.Header, payload []byte) error {
	if h.OpCode == codec.OpContinuation && c.frag == nil || h.OpCode != codec.OpContinuation && c.frag != nil {
		err := fmt.Errorf("%w: continuation frame out of order", ErrProtocol)
		c.fail(KindProtocol, err)
		return err
	}
	if h.Fin && c.frag == nil {
		c.cli.cfg.Handler.OnMessage(c, h.OpCode, payload)
		return nil
	}
	if c.frag == nil {
		c.frag, c.fragOp = getBuf(), h.OpCode
	}
	if int64(len(*c.frag)+len(payload)) > c.cli.cfg.MaxFrame {
		err := fmt.Errorf("%w: fragmented message over %d bytes", ErrProtocol, c.cli.cfg.MaxFrame)
		c.fail(KindProtocol, err)
		return err
	}
	*c.frag = append(*c.frag, payload...)
	if h.Fin {
		c.cli.cfg.Handler.OnMessage(c, c.fragOp, *c.frag)
		putBuf(c.frag)
		c.frag = nil
	}
	return nil
}
