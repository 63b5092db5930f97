package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lesismal/llib/std/crypto/tls"
	"github.com/panjf2000/gnet/v2"

	"github.com/bellhop/bellhop/codec"
)

type connState uint8

const (
	stateHandshake connState = iota // upgrade request sent, waiting for 101
	stateOpen                       // upgraded
	stateClosing                    // close frame sent or connection failed; waiting for the transport to go
	stateClosed                     // gone
)

// Conn is one client WebSocket connection.
//
// The dial worker fills it in; EnrollContext then hands it to an event loop,
// which owns every field from then on, except wait (an atomic hand-off with
// the worker) and cli. Methods documented "loop only" may be called only
// from a Handler method or a function run by AsyncDo; the others are safe
// from any goroutine.
type Conn struct {
	cli    *Client
	g      gnet.Conn    // set in OnOpen, before the worker gets the Conn back
	tc     *tls.Conn    // wss only; writes go through it, on the loop
	nonce  [16]byte     // Sec-WebSocket-Key
	start  time.Time    // dial start, for the connect latency
	wait   atomic.Int32 // waitPending, waitAnswered or waitAbandoned
	notify chan<- error // the dial worker's answer channel, until answered

	state      connState
	upgraded   bool         // counted in Open; OnClose is due
	closedByUs bool         // Close or AsyncClose ran: not an error
	err        error        // why the connection failed, for OnClose
	plain      *[]byte      // wss: decrypted bytes not parsed yet; nil when none
	frag       *[]byte      // fragments of the message being joined; nil when none
	fragOp     codec.OpCode // opcode of that message
	out        *[]byte      // frames queued during the current callback; nil outside one
	user       any          // the scenario's per-connection state
}

// bufPool recycles write batches, TLS plaintext and fragment buffers, so an
// idle connection holds none.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > 1<<20 {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// Data returns the value set by SetData. Loop only.
func (c *Conn) Data() any { return c.user }

// SetData attaches the scenario's state to the connection. Loop only.
func (c *Conn) SetData(v any) { c.user = v }

// IsOpen reports whether the connection is upgraded and not closing. Loop
// only.
func (c *Conn) IsOpen() bool { return c.state == stateOpen }

// Send queues one masked message frame (FIN set). Frames sent during one
// callback go out in one write when it returns. Loop only.
func (c *Conn) Send(op codec.OpCode, payload []byte) error {
	if c.state != stateOpen {
		return ErrConnClosed
	}
	c.queue(op, payload)
	return nil
}

// queue appends a masked frame to the batch, starting one if needed.
func (c *Conn) queue(op codec.OpCode, payload []byte) {
	h := codec.Header{Fin: true, OpCode: op}
	binary.LittleEndian.PutUint32(h.Mask[:], rand.Uint32())
	if c.out == nil {
		c.out = getBuf()
		defer c.flush()
	}
	*c.out = codec.AppendClientFrame(*c.out, h, payload)
}

// flush writes the batch and ends it.
func (c *Conn) flush() {
	b := c.out
	if b == nil {
		return
	}
	c.out = nil
	if len(*b) > 0 && c.state != stateClosed {
		if err := c.write(*b); err != nil {
			c.fail(KindWrite, err)
		}
	}
	putBuf(b)
}

func (c *Conn) write(b []byte) error {
	var err error
	if c.tc != nil {
		_, err = c.tc.Write(b)
	} else {
		_, err = c.g.Write(b)
	}
	return err
}

// Close sends a close frame (1000). The server answers it and closes the
// TCP connection, which ends this one (the client's Close ends what is left
// after a few seconds). Loop only.
func (c *Conn) Close() {
	if c.state != stateOpen {
		return
	}
	c.closedByUs = true
	c.queue(codec.OpClose, closeNormal)
	c.state = stateClosing
}

var closeNormal = []byte{byte(codec.CloseNormal >> 8), byte(codec.CloseNormal & 0xff)}

// Fail counts err under kind and closes the connection at once; OnClose
// then gets err. Loop only.
func (c *Conn) Fail(kind ErrorKind, err error) {
	c.fail(kind, err)
	if c.g != nil {
		_ = c.g.Close()
	}
}

// fail records why the connection ends. The caller closes the transport
// (by returning gnet.Close, or via Fail).
func (c *Conn) fail(kind ErrorKind, err error) {
	switch c.state {
	case stateClosed:
		return
	case stateHandshake:
		c.answer(kind, err)
	default:
		if c.err == nil && !c.closedByUs && !c.cli.closing.Load() {
			c.cli.stats.AddError(kind, err)
		}
	}
	if c.err == nil {
		c.err = err
	}
	c.state = stateClosing
}

// answer tells the dial worker how the handshake ended, unless it gave up.
// Failures are counted here, once.
func (c *Conn) answer(kind ErrorKind, err error) bool {
	if !c.wait.CompareAndSwap(waitPending, waitAnswered) {
		return false
	}
	if err != nil && !c.cli.closing.Load() {
		c.cli.stats.AddError(kind, err)
	}
	c.notify <- err
	c.notify = nil
	return true
}

// AsyncDo runs f on the connection's event loop, if the connection is
// still open then. Frames f sends go out in one write. Safe from any
// goroutine.
func (c *Conn) AsyncDo(f func(*Conn)) error {
	return c.g.EventLoop().Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		if c.state == stateOpen {
			c.out = getBuf()
			f(c)
			c.flush()
		}
		return nil
	}))
}

// AsyncClose runs Close on the connection's event loop. Safe from any
// goroutine.
func (c *Conn) AsyncClose() error { return c.AsyncDo((*Conn).Close) }

// upgrade completes the handshake: it hands the connection to its worker,
// or fails it when the worker gave up.
func (c *Conn) upgrade() error {
	if !c.wait.CompareAndSwap(waitPending, waitAnswered) {
		return errAbandoned
	}
	c.state = stateOpen
	c.upgraded = true
	cl := c.cli
	cl.latency.Record(time.Since(c.start))
	cl.stats.Upgraded.Add(1)
	cl.stats.Open.Add(1)
	cl.open.Add(1)
	cl.cfg.Handler.OnUpgrade(c)
	c.notify <- nil
	c.notify = nil
	return nil
}

// errAbandoned closes a connection whose dial worker timed out.
var errAbandoned = errors.New("bench: handshake abandoned")
