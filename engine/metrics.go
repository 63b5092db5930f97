package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bellhop/bellhop/codec"
	"github.com/bellhop/bellhop/codec/handshake"
)

// serverMetrics are a server's counters, in its own metrics.Set so several
// servers (tests) can live in one process. Counters are created up front;
// the hot path only increments them.
type serverMetrics struct {
	set *metrics.Set

	accepted, handshakes, framesIn, messagesIn  *metrics.Counter
	framesOut, bytesIn, bytesOut, published     *metrics.Counter
	writes                                      *metrics.Counter
	pings, slowConsumers, overloaded, tlsErrors *metrics.Counter
	backlogs, tlsHandshakes, rateLimited        *metrics.Counter
	closeReasons                                [numCloseReasons]*metrics.Counter
	loops                                       atomic.Uint64

	mu          sync.Mutex // guards the lazily made counters below
	closeCodes  map[int]*metrics.Counter
	handshakeKO map[int]*metrics.Counter
	refusedBy   map[int]*metrics.Counter
}

func newServerMetrics() *serverMetrics {
	s := metrics.NewSet()
	m := &serverMetrics{
		set:           s,
		accepted:      s.NewCounter("bellhop_connections_accepted_total"),
		handshakes:    s.NewCounter("bellhop_handshakes_total"),
		framesIn:      s.NewCounter("bellhop_frames_received_total"),
		messagesIn:    s.NewCounter("bellhop_messages_received_total"),
		framesOut:     s.NewCounter("bellhop_frames_sent_total"),
		writes:        s.NewCounter("bellhop_socket_writes_total"),
		bytesIn:       s.NewCounter("bellhop_bytes_received_total"),
		bytesOut:      s.NewCounter("bellhop_bytes_sent_total"),
		published:     s.NewCounter("bellhop_publishes_total"),
		pings:         s.NewCounter("bellhop_pings_sent_total"),
		slowConsumers: s.NewCounter("bellhop_slow_consumers_total"),
		overloaded:    s.NewCounter("bellhop_loop_queue_full_total"),
		tlsErrors:     s.NewCounter("bellhop_tls_errors_total"),
		backlogs:      s.NewCounter("bellhop_slow_socket_backlogs_total"),
		tlsHandshakes: s.NewCounter("bellhop_tls_handshakes_total"),
		rateLimited:   s.NewCounter("bellhop_rate_limited_total"),
		closeCodes:    make(map[int]*metrics.Counter),
		handshakeKO:   make(map[int]*metrics.Counter),
		refusedBy:     make(map[int]*metrics.Counter),
	}
	for i := range m.closeReasons {
		m.closeReasons[i] = s.NewCounter(fmt.Sprintf(`bellhop_connections_closed_total{reason=%q}`, closeReason(i)))
	}
	s.NewGauge("bellhop_event_loops", func() float64 { return float64(m.loops.Load()) })
	return m
}

// gauge registers the active-connections gauge once the server exists.
func (m *serverMetrics) gauge(name string, f func() float64) { m.set.NewGauge(name, f) }

// loopStats are counted by a loop without atomics and added to the shared
// counters once per flush, so the hot path touches no shared cache line.
type loopStats struct {
	framesIn, messagesIn, bytesIn int
	framesOut, bytesOut           int
	writes                        int // writes handed to sockets: frames out / writes is the batching
}

func (m *serverMetrics) add(s *loopStats) {
	if s.framesIn|s.messagesIn|s.bytesIn|s.framesOut|s.bytesOut|s.writes == 0 {
		return
	}
	m.framesIn.Add(s.framesIn)
	m.messagesIn.Add(s.messagesIn)
	m.bytesIn.Add(s.bytesIn)
	m.framesOut.Add(s.framesOut)
	m.bytesOut.Add(s.bytesOut)
	m.writes.Add(s.writes)
	*s = loopStats{}
}

func (m *serverMetrics) closed(r closeReason, code codec.StatusCode) {
	m.closeReasons[r].Inc()
	if code != 0 {
		m.labelled(m.closeCodes, "bellhop_close_codes_total", "code", int(code)).Inc()
	}
}

// refused counts a connection the guard turned away (403 banned, 429 limit).
func (m *serverMetrics) refused(status int) {
	m.labelled(m.refusedBy, "bellhop_connections_refused_total", "status", status).Inc()
}

func (m *serverMetrics) handshakeRejected(status int) {
	m.labelled(m.handshakeKO, "bellhop_handshake_failures_total", "status", status).Inc()
}

// labelled returns the counter name{label="v"} from cache, making it on
// first use; close codes and statuses are few, and these paths are rare.
func (m *serverMetrics) labelled(cache map[int]*metrics.Counter, name, label string, v int) *metrics.Counter {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := cache[v]
	if c == nil {
		c = m.set.NewCounter(name + "{" + label + `="` + strconv.Itoa(v) + `"}`)
		cache[v] = c
	}
	return c
}

func (m *serverMetrics) handshakeFailed(err error) {
	var he *handshake.Error
	if errors.As(err, &he) {
		m.handshakeRejected(he.Status)
		return
	}
	m.handshakeRejected(0)
}

// gnetLogger sends gnet's own log lines to the server's slog.Logger.
type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(format string, args ...any) {
	g.l.Debug(fmt.Sprintf(format, args...), "component", "gnet")
}
func (g gnetLogger) Infof(format string, args ...any) {
	g.l.Info(fmt.Sprintf(format, args...), "component", "gnet")
}
func (g gnetLogger) Warnf(format string, args ...any) {
	g.l.Warn(fmt.Sprintf(format, args...), "component", "gnet")
}
func (g gnetLogger) Errorf(format string, args ...any) {
	g.l.Error(fmt.Sprintf(format, args...), "component", "gnet")
}
func (g gnetLogger) Fatalf(format string, args ...any) {
	g.l.Error(fmt.Sprintf(format, args...), "component", "gnet", "fatal", true)
}
