package dispatch_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/dispatch"
	"github.com/bellhop/bellhop/dispatch/auth"
	"github.com/bellhop/bellhop/engine"
)

// fanout counts the messages its subscribers read and signals when the
// count reaches the target. Safe for concurrent use.
type fanout struct {
	read   atomic.Uint64
	target atomic.Uint64
	done   chan struct{}
}

func (f *fanout) count() {
	if f.read.Add(1) == f.target.Load() {
		f.done <- struct{}{}
	}
}

// drain reads frames from r without allocating and counts the text
// frames. It runs in its own goroutine until the connection ends.
func (f *fanout) drain(r *bufio.Reader) {
	var ext [8]byte
	for {
		b0, err := r.ReadByte()
		if err != nil {
			return
		}
		b1, err := r.ReadByte()
		if err != nil {
			return
		}
		n := uint64(b1 & 0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(r, ext[:2]); err != nil {
				return
			}
			n = uint64(binary.BigEndian.Uint16(ext[:2]))
		case 127:
			if _, err := io.ReadFull(r, ext[:]); err != nil {
				return
			}
			n = binary.BigEndian.Uint64(ext[:])
		}
		if _, err := r.Discard(int(n)); err != nil {
			return
		}
		if ws.OpCode(b0&0x0f) == ws.OpText {
			f.count()
		}
	}
}

// subscribeRaw connects a front desk client subscribed to rooms whose
// frames f counts from now on.
func subscribeRaw(b *testing.B, h *harness, i int, f *fanout, wg *sync.WaitGroup) net.Conn {
	tok := h.token(staff("fd-"+strconv.Itoa(i), auth.FrontDesk))
	conn, br, _, err := ws.Dialer{Timeout: waitTimeout}.Dial(context.Background(), h.url+"?token="+tok)
	if err != nil {
		b.Fatalf("subscriber %d: %v", i, err)
	}
	r := bufio.NewReaderSize(conn, 4096)
	if br != nil {
		r = br
	}
	if err := wsutil.WriteClientText(conn, []byte(`{"event":"SUBSCRIBE","namespace":"rooms"}`)); err != nil {
		b.Fatal(err)
	}
	for range 2 { // AUTHENTICATED, SUBSCRIBED
		if _, err := readFrame(r); err != nil {
			b.Fatalf("subscriber %d: %v", i, err)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		f.drain(r)
	}()
	return conn
}

// roomUpdatePublication is a room change as the broker hands it to
// Service.Deliver: dispatch's header, then the envelope without messageId.
func roomUpdatePublication(channel, epoch string, offset uint64) cluster.Publication {
	data := append([]byte{1, 0, 0, 0, 0, 0, 0, 0, 4, 12}, `{"event":"ROOM_STATUS_UPDATE","namespace":"rooms","payload":{"roomNumber":"412","status":"CLEANED","floor":4,"version":8,"updatedAt":"2026-11-25T10:00:00Z","updatedBy":"hk-anna","previousStatus":"CLEANING"},"timestamp":"2026-11-25T10:00:00.000Z","correlationId":"c-8f14e45f","sender":"hk-anna","priority":"HIGH"}`...)
	return cluster.Publication{Channel: channel, Position: cluster.Position{Epoch: epoch, Offset: offset}, Data: data, Time: time.Now()}
}

// BenchmarkFanOut delivers room updates to N front desk clients on real
// loopback connections, through Service.Deliver (each message rendered
// once, handed to each event loop once) and the engine, and waits until
// every client has read them. An op is a burst of B messages; with B > 1
// the loops write several frames per syscall, as under load. The clients
// run on the same two cores as the server, so ns/delivery is an upper
// bound of the server's cost. allocs/delivery is the allocations of a burst
// divided by its N*B deliveries: the fixed per-message cost spread over the
// subscribers, with nothing added per subscriber.
func BenchmarkFanOut(b *testing.B) {
	for _, bc := range []struct{ n, burst int }{{1, 1}, {100, 1}, {1000, 1}, {1000, 16}} {
		b.Run("subscribers="+strconv.Itoa(bc.n)+"/burst="+strconv.Itoa(bc.burst), func(b *testing.B) {
			benchFanOut(b, bc.n, bc.burst)
		})
	}
}

func benchFanOut(b *testing.B, n, burst int) {
	h := start(b, options{engine: engine.Config{Loops: 2, MaxConnections: 2 * n}})
	f := &fanout{done: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = subscribeRaw(b, h, i, f, &wg)
	}
	b.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
		wg.Wait()
	})
	ch, epoch := testProperty+":"+dispatch.NSRooms, h.broker.Epoch()
	frame := len(roomUpdatePublication(ch, epoch, 1).Data) // about the frame's size
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var offset uint64
	b.SetBytes(int64(frame * n * burst))
	b.ReportAllocs()
	for b.Loop() {
		f.target.Store((offset + uint64(burst)) * uint64(n))
		for range burst {
			offset++
			h.svc.Deliver(roomUpdatePublication(ch, epoch, offset))
		}
		<-f.done
	}
	runtime.ReadMemStats(&after)
	deliveries := float64(offset) * float64(n)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/deliveries, "allocs/delivery")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/deliveries, "ns/delivery")
}
