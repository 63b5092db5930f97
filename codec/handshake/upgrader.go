package handshake

import (
	"bytes"
	"fmt"
	"io"

	"github.com/gobwas/ws"
)

// Upgrader runs WebSocket handshakes for one event loop. It holds the
// configuration and the state of the request in progress, reset on each
// call, so a handshake allocates no closures and reuses its buffers.
//
// An Upgrader is not safe for concurrent use: make one per event loop.
type Upgrader struct {
	up   ws.Upgrader // hooks bound to st's methods once, in NewUpgrader
	st   state       // per-request state
	io   pipe        // reads the head, captures gobwas's response
	resp []byte      // error response, reused
}

// pipe is the io.ReadWriter gobwas upgrades: it reads exactly the head and
// collects the response, so that it reaches the client in a single Write.
type pipe struct {
	r   bytes.Reader
	out []byte
}

func (p *pipe) Read(b []byte) (int, error) { return p.r.Read(b) }

func (p *pipe) Write(b []byte) (int, error) {
	p.out = append(p.out, b...)
	return len(b), nil
}

func (p *pipe) reset(head []byte) {
	p.r.Reset(head)
	if cap(p.out) > maxKeptBuffer {
		p.out = nil
	}
	p.out = p.out[:0]
}

// Buffer sizes handed to gobwas, whose pools serve powers of two from 256 B
// to 64 KiB. The read buffer is sized to the head, so that every line is a
// slice of it and gobwas never copies one.
const (
	minReadBuffer = 256
	writeBuffer   = 512
)

// NewUpgrader validates cfg and returns an Upgrader for one event loop.
func NewUpgrader(cfg Config) (*Upgrader, error) {
	c, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	u := &Upgrader{}
	u.st.cfg = c
	u.up = ws.Upgrader{
		WriteBufferSize: writeBuffer,
		OnRequest:       u.st.onRequest,
		OnHost:          u.st.onHost,
		OnHeader:        u.st.onHeader,
		ProtocolCustom:  u.st.selectProtocol,
		OnBeforeUpgrade: u.st.beforeUpgrade,
	}
	if c.deflate {
		u.up.Negotiate = u.st.negotiate
	}
	return u, nil
}

// Upgrade runs the handshake on head, the complete request head found by
// FindHead (nothing after its blank line is read), and writes the response to
// w with a single Write: 101 Switching Protocols, or an error response made
// by AppendResponse.
//
// On success it returns the Request. On a refused handshake it returns the
// *Error whose Status it answered with; close the connection after the
// response is flushed. When w.Write fails after a valid handshake, it returns
// that error wrapped ("handshake: write response: ...").
//
// Checks run in this order: request line (HTTP version, method), path (404),
// headers (400; 426 for a Sec-WebSocket-Version other than 13), Origin (403).
func (u *Upgrader) Upgrade(head []byte, w io.Writer) (Request, error) {
	return u.UpgradeWith(head, w, nil)
}

// UpgradeWith is Upgrade with one more check, run on the parsed request
// after every other check passed and before the 101 answer is written:
// when admit returns an error, that is the answer (a rate limit, say).
func (u *Upgrader) UpgradeWith(head []byte, w io.Writer, admit func(*Request) *Error) (Request, error) {
	u.st.reset()
	u.io.reset(head)
	u.up.ReadBufferSize = max(len(head), minReadBuffer)
	_, err := u.up.Upgrade(&u.io)
	u.io.r.Reset(nil) // do not keep the caller's buffer reachable
	if err != nil {
		if u.st.err != nil {
			err = u.st.err
		}
		return Request{}, u.reject(fromGobwas(err, head), w)
	}
	req := u.st.request()
	if admit != nil {
		if e := admit(&req); e != nil {
			return Request{}, u.reject(e, w)
		}
	}
	if _, err = w.Write(u.io.out); err != nil {
		return Request{}, fmt.Errorf("handshake: write response: %w", err)
	}
	return req, nil
}

// reject writes the error response for e to w and returns e. A write error
// is dropped: the connection is closed after a rejection anyway.
func (u *Upgrader) reject(e *Error, w io.Writer) *Error {
	if cap(u.resp) > maxKeptBuffer {
		u.resp = nil
	}
	u.resp = e.AppendResponse(u.resp[:0])
	_, _ = w.Write(u.resp)
	return e
}
