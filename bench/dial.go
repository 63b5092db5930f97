package bench

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"time"

	"github.com/lesismal/llib/std/crypto/tls"
)

// Hand-off of a connection's handshake result between its dial worker and
// its event loop (Conn.wait): exactly one side moves it out of waitPending.
const (
	waitPending   int32 = iota // the worker waits for the loop's answer
	waitAnswered               // the loop won: it sends the result on Conn.notify
	waitAbandoned              // the worker gave up (timeout, cancel): the loop must close the conn
)

// dialWorker opens connections one after another. It runs in its own
// goroutine, started by Client.Connect, and owns done, timer and req.
type dialWorker struct {
	cl    *Client
	done  chan error // the loop's answer for the connection being opened; capacity 1
	timer *time.Timer
	req   []byte // upgrade request scratch
}

// run takes connection numbers from next until n are taken, paced at rate
// per second from start when rate > 0, and returns those that upgraded.
func (d *dialWorker) run(ctx context.Context, next *atomic.Int64, n int64, start time.Time, rate float64) []*Conn {
	var out []*Conn
	for ctx.Err() == nil && !d.cl.closing.Load() {
		i := next.Add(1) - 1
		if i >= n {
			break
		}
		if rate > 0 && !d.sleepUntil(ctx, start.Add(time.Duration(float64(i)/rate*float64(time.Second)))) {
			break
		}
		if c := d.open(ctx); c != nil {
			out = append(out, c)
		}
	}
	if d.timer != nil {
		d.timer.Stop()
	}
	return out
}

func (d *dialWorker) sleepUntil(ctx context.Context, t time.Time) bool {
	wait := time.Until(t)
	if wait <= 0 {
		return true
	}
	d.arm(wait)
	select {
	case <-d.timer.C:
		return true
	case <-ctx.Done():
	case <-d.cl.quit:
	}
	return false
}

func (d *dialWorker) arm(wait time.Duration) {
	if d.timer == nil {
		d.timer = time.NewTimer(wait)
		return
	}
	d.timer.Reset(wait) // Go 1.23+: Reset discards a stale fire
}

// open dials one connection (TCP, TLS, upgrade request), enrolls it into an
// event loop and waits for the upgrade. It returns nil on failure, which it
// or the loop counted in Stats.
func (d *dialWorker) open(ctx context.Context) *Conn {
	cl := d.cl
	c := &Conn{cli: cl, notify: d.done}
	c.nonce = randomNonce()
	c.start = time.Now()
	deadline := c.start.Add(cl.cfg.HandshakeTimeout)
	dialer := &cl.dialers[cl.src.Add(1)%uint64(len(cl.dialers))]
	nc, err := dialer.DialContext(ctx, "tcp", cl.cfg.Target.Addr)
	if err != nil {
		d.dialFailed(ctx, KindDial, err)
		return nil
	}
	if kind, err := d.prepare(c, nc, deadline); err != nil {
		_ = nc.Close()
		d.dialFailed(ctx, kind, err)
		return nil
	}
	g, err := cl.gc.EnrollContext(nc, c) // closes nc; the loop owns c from here
	if err != nil {
		d.dialFailed(ctx, KindDial, err)
		return nil
	}
	if !d.await(ctx, c, deadline) {
		return nil
	}
	if !cl.register(c) {
		_ = g.Close()
		return nil
	}
	return c
}

func (d *dialWorker) dialFailed(ctx context.Context, kind ErrorKind, err error) {
	if ctx.Err() == nil && !d.cl.closing.Load() {
		d.cl.stats.AddError(kind, err)
	}
}

// prepare runs the TLS handshake (blocking, on this worker) when the target
// is wss, then writes the upgrade request. The response is read by the loop.
// The deadline set on nc dies with it: EnrollContext hands a dup of the
// socket to gnet and closes nc.
func (d *dialWorker) prepare(c *Conn, nc net.Conn, deadline time.Time) (ErrorKind, error) {
	cl := d.cl
	d.req = appendUpgradeRequest(d.req[:0], cl.cfg.Target, &c.nonce, cl.cfg.Protocol)
	if err := nc.SetDeadline(deadline); err != nil {
		return KindDial, err
	}
	if !cl.cfg.Target.Secure {
		if _, err := nc.Write(d.req); err != nil {
			return KindWrite, err
		}
		return 0, nil
	}
	tc := tls.NewConn(nc, cl.cfg.TLS, true, false)
	if err := tc.Handshake(); err != nil {
		if isTimeout(err) {
			return KindTimeout, err
		}
		return KindTLS, err
	}
	if _, err := tc.Write(d.req); err != nil {
		return KindWrite, err
	}
	c.tc = tc // OnOpen moves it onto the gnet conn
	return 0, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// await waits for the loop's answer until the deadline. On timeout or
// cancellation it tries to abandon the connection; if the loop answered
// first, its answer wins.
func (d *dialWorker) await(ctx context.Context, c *Conn, deadline time.Time) bool {
	d.arm(time.Until(deadline))
	var why error
	select {
	case err := <-d.done:
		return err == nil
	case <-d.timer.C:
		why = ErrTimeout
	case <-ctx.Done():
	case <-d.cl.quit:
	}
	if !c.wait.CompareAndSwap(waitPending, waitAbandoned) {
		return <-d.done == nil
	}
	if why != nil && !d.cl.closing.Load() {
		d.cl.stats.AddError(KindTimeout, why)
	}
	_ = c.g.Close()
	return false
}

// randomNonce returns a Sec-WebSocket-Key nonce. RFC 6455 asks for a random
// value; it guards caches, not secrets, so a fast generator is enough.
func randomNonce() (n [16]byte) {
	for i := 0; i < len(n); i += 8 {
		v := rand.Uint64()
		for j := range 8 {
			n[i+j] = byte(v >> (8 * j))
		}
	}
	return n
}
