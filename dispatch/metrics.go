package dispatch

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bellhop/bellhop/dispatch/pqueue"
)

// serviceMetrics are the dispatch layer's metrics, in their own set.
// Counters with labels are made on first use and cached.
type serviceMetrics struct {
	set *metrics.Set

	sessions                          *metrics.Gauge
	authOK, authFailed, acks          *metrics.Counter
	rejected, recovered, notRecovered *metrics.Counter
	escalated, reassigned             *metrics.Counter
	dropped                           *metrics.Counter
	timeToAccept                      *metrics.Histogram
	openRequests                      atomic.Int64 // created on this node and not completed or cancelled

	mu       sync.Mutex
	counters map[string]*metrics.Counter
	hists    map[string]*metrics.Histogram
}

func newServiceMetrics() *serviceMetrics {
	s := metrics.NewSet()
	m := &serviceMetrics{
		set:          s,
		sessions:     s.NewGauge("bellhop_sessions", nil),
		authOK:       s.NewCounter("bellhop_auth_total"),
		authFailed:   s.NewCounter("bellhop_auth_failures_total"),
		acks:         s.NewCounter("bellhop_acks_received_total"),
		rejected:     s.NewCounter("bellhop_dispatch_rejected_total"),
		recovered:    s.NewCounter(`bellhop_recoveries_total{recovered="true"}`),
		notRecovered: s.NewCounter(`bellhop_recoveries_total{recovered="false"}`),
		escalated:    s.NewCounter("bellhop_service_requests_escalated_total"),
		reassigned:   s.NewCounter("bellhop_service_requests_reassigned_total"),
		dropped:      s.NewCounter("bellhop_deliveries_dropped_total"),
		timeToAccept: s.NewHistogram("bellhop_service_request_accept_seconds"),
		counters:     make(map[string]*metrics.Counter),
		hists:        make(map[string]*metrics.Histogram),
	}
	s.NewGauge("bellhop_service_requests_open", func() float64 { return float64(m.openRequests.Load()) })
	return m
}

func (m *serviceMetrics) counter(name string) *metrics.Counter {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.counters[name]
	if c == nil {
		c = m.set.NewCounter(name)
		m.counters[name] = c
	}
	return c
}

func (m *serviceMetrics) histogram(name string) *metrics.Histogram {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.hists[name]
	if h == nil {
		h = m.set.NewHistogram(name)
		m.hists[name] = h
	}
	return h
}

// received counts an inbound event and its handling time on the loop.
func (m *serviceMetrics) received(event string, d time.Duration) {
	m.counter(fmt.Sprintf(`bellhop_events_received_total{event=%q}`, event)).Inc()
	m.histogram(fmt.Sprintf(`bellhop_event_loop_seconds{event=%q}`, event)).Update(d.Seconds())
}

// processed records a worker's handling time of an event.
func (m *serviceMetrics) processed(event string, prio Priority, d time.Duration) {
	m.histogram(fmt.Sprintf(`bellhop_event_processing_seconds{event=%q,priority=%q}`, event, prio)).Update(d.Seconds())
}

func (m *serviceMetrics) published(event string, prio Priority) {
	m.counter(fmt.Sprintf(`bellhop_events_published_total{event=%q,priority=%q}`, event, prio)).Inc()
}

func (m *serviceMetrics) errorSent(code Code) {
	m.counter(fmt.Sprintf(`bellhop_errors_total{code=%q}`, code)).Inc()
}

// watchQueue exposes the dispatch queue depths per priority.
func (m *serviceMetrics) watchQueue(p *pqueue.Pool[func()]) {
	for prio := pqueue.High; prio < pqueue.NumPriorities; prio++ {
		m.set.NewGauge(fmt.Sprintf(`bellhop_dispatch_queue_depth{priority=%q}`, prio), func() float64 {
			return float64(p.Stats(prio).Depth)
		})
		m.set.NewGauge(fmt.Sprintf(`bellhop_dispatch_queue_full_total{priority=%q}`, prio), func() float64 {
			return float64(p.Stats(prio).Rejected)
		})
	}
}
