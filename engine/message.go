package engine

import (
	"sync"
	"sync/atomic"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/codec/deflate"
)

// Message is a message encoded once for many connections: the whole frame,
// plus its permessage-deflate form when the payload is worth compressing. Its
// bytes are immutable and shared by every loop that writes them.
//
// A Message is reference counted: the Server takes one reference per loop it
// hands it to and releases it when the loop is done, then recycles the
// buffers. Callers get a Message from Server.NewMessage and give up their
// reference by passing it to exactly one of Publish, AsyncSend or Release.
type Message struct {
	// Set these before handing the message over; they are read-only after.
	Seq      uint64   // order within its topic; SubscribeAfter(topic, n) skips Seq <= n; 0 is never skipped
	Priority Priority // order among a slow connection's waiting frames
	Conflate uint64   // non-zero: replaces a waiting frame with the same key on a slow connection

	frame    []byte // plain frame
	deflated []byte // compressed frame; nil when not compressed
	refs     atomic.Int32
}

// maxPooledMessage bounds the buffers kept for reuse; larger ones go to GC.
const maxPooledMessage = 64 << 10

var messagePool = sync.Pool{New: func() any { return new(Message) }}

var compressorPool = sync.Pool{New: func() any { return deflate.NewCompressor() }}

// NewMessage encodes payload once as a frame of type op (and deflated when
// compression is on and the payload is at least CompressThreshold bytes).
// payload is copied. Safe from any goroutine.
func (s *Server) NewMessage(op codec.OpCode, payload []byte) *Message {
	m := getMessage(PriorityMedium)
	m.frame = codec.AppendFrame(m.frame[:0], op, payload, false)
	m.deflated = m.deflated[:0]
	if s.cfg.Deflate && s.worthCompressing(len(payload)) {
		comp := compressorPool.Get().(*deflate.Compressor)
		m.deflated = appendDeflatedFrame(m.deflated, comp, op, payload)
		compressorPool.Put(comp)
	} else {
		m.deflated = m.deflated[:0:0]
	}
	return m
}

// rawMessage wraps an already encoded frame (copied) for a backlog.
func (s *Server) rawMessage(frame []byte, prio Priority) *Message {
	m := getMessage(prio)
	m.frame = append(m.frame[:0], frame...)
	m.deflated = m.deflated[:0:0]
	return m
}

func getMessage(prio Priority) *Message {
	m := messagePool.Get().(*Message)
	m.refs.Store(1)
	m.Seq, m.Priority, m.Conflate = 0, prio, 0
	return m
}

// appendDeflatedFrame appends a compressed frame carrying payload to dst.
func appendDeflatedFrame(dst []byte, comp *deflate.Compressor, op codec.OpCode, payload []byte) []byte {
	// Compress after a maximal header, then write the real header in front.
	start := len(dst)
	dst = append(dst, make([]byte, codec.MaxHeaderSize)...)
	dst = comp.Append(dst, payload)
	n := len(dst) - start - codec.MaxHeaderSize
	h := codec.Header{Fin: true, OpCode: op, Rsv: codec.Rsv1, Length: int64(n)}
	hs := codec.HeaderSize(n, false)
	off := start + codec.MaxHeaderSize - hs
	codec.AppendHeader(dst[off:off], h)
	copy(dst[start:], dst[off:])
	return dst[:start+hs+n]
}

// Frame returns the frame's bytes for a connection that negotiated
// permessage-deflate or not.
func (m *Message) Frame(deflated bool) []byte {
	if deflated && len(m.deflated) > 0 {
		return m.deflated
	}
	return m.frame
}

// Len returns the plain frame's length in bytes.
func (m *Message) Len() int { return len(m.frame) }

func (m *Message) retain(n int32) { m.refs.Add(n) }

// Release gives up a reference; the last one recycles the buffers.
func (m *Message) Release() { m.release() }

func (m *Message) release() {
	switch n := m.refs.Add(-1); {
	case n == 0:
		if cap(m.frame) <= maxPooledMessage && cap(m.deflated) <= maxPooledMessage {
			messagePool.Put(m)
		}
	case n < 0:
		panic("BUG: engine.Message released more often than retained")
	}
}
