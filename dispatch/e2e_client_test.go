package dispatch_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/bellhop/bellhop/dispatch"
)

// envelope is a message as the client sees it.
type envelope struct {
	Event         string          `json:"event"`
	Namespace     string          `json:"namespace"`
	Payload       json.RawMessage `json:"payload"`
	Timestamp     string          `json:"timestamp"`
	MessageID     string          `json:"messageId"`
	CorrelationID string          `json:"correlationId"`
	Sender        string          `json:"sender"`
	Priority      string          `json:"priority"`
}

// decode unmarshals the payload into v, failing the test if it cannot.
func (e envelope) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(e.Payload, v); err != nil {
		t.Fatalf("%s payload %s: %v", e.Event, e.Payload, err)
	}
}

func (e envelope) String() string {
	return fmt.Sprintf("%s ns=%q id=%q corr=%q %s", e.Event, e.Namespace, e.MessageID, e.CorrelationID, e.Payload)
}

// client is a WebSocket client whose reader goroutine queues envelopes.
type client struct {
	t    testing.TB
	conn net.Conn
	r    io.Reader
	wmu  sync.Mutex // serializes writes: the test and the reader's control answers

	mu          sync.Mutex // guards queue, closeCode, readErr
	queue       []envelope
	closeCode   ws.StatusCode // close frame received; 0 if none
	closeReason string
	readErr     error

	wake    chan struct{} // a new envelope or the end, capacity 1
	done    chan struct{} // closed when the reader ends
	corr    atomic.Int64  // correlation id source
	started bool
}

// startReader starts the goroutine that owns reading; it ends at the close
// frame or a read error, and closes done.
func (c *client) startReader() {
	c.started = true
	go func() {
		defer close(c.done)
		for {
			f, err := readFrame(c.r)
			if err != nil {
				c.finish(0, "", err)
				return
			}
			switch f.Header.OpCode {
			case ws.OpText:
				var e envelope
				if err := json.Unmarshal(f.Payload, &e); err != nil {
					c.finish(0, "", fmt.Errorf("server sent non-JSON %q: %w", f.Payload, err))
					return
				}
				c.mu.Lock()
				c.queue = append(c.queue, e)
				c.mu.Unlock()
				c.signal()
			case ws.OpPing:
				c.write(ws.NewPongFrame(f.Payload))
			case ws.OpClose:
				code, reason := ws.ParseCloseFrameData(f.Payload)
				c.write(ws.NewCloseFrame(ws.NewCloseFrameBody(code, "")))
				c.finish(code, reason, nil)
				return
			}
		}
	}()
}

func (c *client) finish(code ws.StatusCode, reason string, err error) {
	c.mu.Lock()
	c.closeCode, c.closeReason, c.readErr = code, reason, err
	c.mu.Unlock()
	c.signal()
}

func (c *client) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *client) close() {
	_ = c.conn.Close()
	if c.started {
		<-c.done
	}
}

// write sends one frame, masked as a client must.
func (c *client) write(f ws.Frame) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(waitTimeout))
	_ = ws.WriteFrame(c.conn, ws.MaskFrameInPlace(f))
}

// sendRaw sends payload in one frame of type op.
func (c *client) sendRaw(op ws.OpCode, payload string) {
	c.write(ws.NewFrame(op, true, []byte(payload)))
}

// send sends an envelope with a fresh correlationId and returns the id.
func (c *client) send(event, namespace string, payload any) string {
	c.t.Helper()
	corr := "c" + strconv.FormatInt(c.corr.Add(1), 10)
	c.sendEnv(map[string]any{"event": event, "namespace": namespace, "payload": payload, "correlationId": corr})
	return corr
}

func (c *client) sendEnv(env map[string]any) {
	c.t.Helper()
	b, err := json.Marshal(env)
	if err != nil {
		c.t.Fatal(err)
	}
	c.write(ws.NewTextFrame(b))
}

// call sends an event and waits for the answer with its correlationId:
// the direct reply, not a broadcast that carries the same correlationId.
func (c *client) call(event, namespace string, payload any) envelope {
	c.t.Helper()
	return c.await(isReply(c.send(event, namespace, payload)))
}

// isReply matches the server's direct answer to the message corr.
func isReply(corr string) func(envelope) bool {
	return func(e envelope) bool {
		switch e.Event {
		case dispatch.EventAck, dispatch.EventError, dispatch.EventSubscribed, dispatch.EventUnsubscribed, dispatch.EventAuthenticated:
			return e.CorrelationID == corr
		}
		return false
	}
}

// next pops the next envelope, failing the test after timeout.
func (c *client) next(timeout time.Duration) envelope {
	c.t.Helper()
	e, ok := c.take(func(envelope) bool { return true }, timeout)
	if !ok {
		c.t.Fatalf("no message within %v (close %d, err %v)", timeout, c.closed(), c.err())
	}
	return e
}

// take removes the first queued envelope that matches, waiting for one
// until timeout or the end of the connection. Envelopes that do not match
// stay queued, in order, for later calls.
func (c *client) take(match func(envelope) bool, timeout time.Duration) (envelope, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	scanned := 0
	for {
		c.mu.Lock()
		for ; scanned < len(c.queue); scanned++ {
			if e := c.queue[scanned]; match(e) {
				c.queue = append(c.queue[:scanned], c.queue[scanned+1:]...)
				c.mu.Unlock()
				return e, true
			}
		}
		ended := c.closeCode != 0 || c.readErr != nil
		c.mu.Unlock()
		if ended {
			return envelope{}, false
		}
		select {
		case <-c.wake:
		case <-deadline.C:
			return envelope{}, false
		}
	}
}

// await takes the first envelope that matches, failing the test when none
// comes within waitTimeout.
func (c *client) await(match func(envelope) bool) envelope {
	c.t.Helper()
	e, ok := c.take(match, waitTimeout)
	if !ok {
		c.mu.Lock()
		queued := make([]string, len(c.queue))
		for i, e := range c.queue {
			queued[i] = e.String()
		}
		c.mu.Unlock()
		c.t.Fatalf("no matching message (close %d, err %v); queued: %v", c.closed(), c.err(), queued)
	}
	return e
}

// quiet checks that nothing matching arrives before a round trip to the
// server completes (the server answers in order on one connection).
func (c *client) quiet(match func(envelope) bool) {
	c.t.Helper()
	corr := c.send(dispatch.EventUnsubscribe, "no-such-namespace", nil)
	for {
		e := c.next(waitTimeout)
		if match(e) {
			c.t.Fatalf("unexpected message %s", e)
		}
		if e.CorrelationID == corr {
			return
		}
	}
}

func (c *client) closed() ws.StatusCode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeCode
}

func (c *client) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// expectClose waits for the server's close frame and checks its code.
func (c *client) expectClose(code ws.StatusCode) {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(waitTimeout):
		c.t.Fatalf("connection not closed within %v", waitTimeout)
	}
	if got := c.closed(); got != code {
		c.t.Fatalf("close code %d (%q, read error %v), want %d", got, c.closeReason, c.err(), code)
	}
}

// Predicates for await.

func isEvent(event string) func(envelope) bool {
	return func(e envelope) bool { return e.Event == event }
}

func hasCorr(corr string) func(envelope) bool {
	return func(e envelope) bool { return e.CorrelationID == corr }
}

func isEventIn(event, namespace string) func(envelope) bool {
	return func(e envelope) bool { return e.Event == event && e.Namespace == namespace }
}

// expectError checks that e is an ERROR with code.
func expectError(t testing.TB, e envelope, code dispatch.Code) errorPayload {
	t.Helper()
	if e.Event != dispatch.EventError {
		t.Fatalf("got %s, want ERROR %s", e, code)
	}
	var p errorPayload
	e.decode(t, &p)
	if p.Code != string(code) || p.Message == "" {
		t.Fatalf("ERROR %+v, want code %s with a message", p, code)
	}
	return p
}

// expectAck checks that e is the ACK of event and returns its payload.
func expectAck(t testing.TB, e envelope, event string) ackPayload {
	t.Helper()
	if e.Event != dispatch.EventAck {
		t.Fatalf("got %s, want ACK of %s", e, event)
	}
	var p ackPayload
	e.decode(t, &p)
	if p.Event != event {
		t.Fatalf("ACK of %q, want %q", p.Event, event)
	}
	return p
}

// subscribe subscribes c to namespace and returns SUBSCRIBED's payload.
func (c *client) subscribe(namespace string, since string) subscribedPayload {
	c.t.Helper()
	var payload any
	if since != "" {
		payload = map[string]string{"since": since}
	}
	e := c.call(dispatch.EventSubscribe, namespace, payload)
	if e.Event != dispatch.EventSubscribed || e.Namespace != namespace {
		c.t.Fatalf("SUBSCRIBE %s: got %s", namespace, e)
	}
	var p subscribedPayload
	e.decode(c.t, &p)
	return p
}

// readAll drains a reader-less client's frames until the connection ends
// and returns the close code it saw (0 if none).
func readAll(c *client) (ws.StatusCode, error) {
	r := bufio.NewReader(c.r)
	_ = c.conn.SetReadDeadline(time.Now().Add(3 * waitTimeout))
	n := 0
	for {
		f, err := readFrame(r)
		if err != nil {
			return 0, fmt.Errorf("after %d frames: %w", n, err)
		}
		n++
		if f.Header.OpCode == ws.OpClose {
			code, _ := ws.ParseCloseFrameData(f.Payload)
			return code, nil
		}
	}
}

// maxTestFrame bounds the frames the test clients read.
const maxTestFrame = 4 << 20

// readFrame reads one server frame (never masked), refusing one over
// maxTestFrame.
func readFrame(r io.Reader) (ws.Frame, error) {
	h, err := ws.ReadHeader(r)
	if err != nil {
		return ws.Frame{}, err
	}
	if h.Length > maxTestFrame || h.Masked {
		return ws.Frame{}, fmt.Errorf("server frame of %d bytes, masked %v", h.Length, h.Masked)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(r, p); err != nil {
		return ws.Frame{}, err
	}
	return ws.Frame{Header: h, Payload: p}, nil
}
