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
	dropped, queued                   *metrics.Counter
	timeToAccept                      *metrics.Histogram
	openRequests                      atomic.Int64 // created on this node and not completed or cancelled

	mu       sync.Mutex
	counters map[string]*metrics.Counter // error codes, made on first use
	events   map[string]*eventMetrics    // read-only after newServiceMetrics
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
		queued:       s.NewCounter("bellhop_publications_queued_total"),
		timeToAccept: s.NewHistogram("bellhop_service_request_accept_seconds"),
		counters:     make(map[string]*metrics.Counter),
		events:       newEventMetrics(s),
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

// eventMetrics are one event's series, made up front so the hot path (a
// message on the loop, a job on a worker) does no formatting, map write or
// locking.
type eventMetrics struct {
	received  *metrics.Counter
	loop      *metrics.Histogram
	published [pqueue.NumPriorities]*metrics.Counter
	processed [pqueue.NumPriorities]*metrics.Histogram
}

// knownEvents are the events with their own series; anything else counts
// under "other".
var knownEvents = []string{
	EventAuth, EventSubscribe, EventUnsubscribe, EventAck, EventRoomStatusUpdate, EventServiceRequest,
	EventServiceRequestUpdate, EventGuestCheckIn, EventGuestCheckOut, EventHousekeepingAlert,
	EventMaintenanceAlert, EventSystemAlert, "other",
}

func newEventMetrics(s *metrics.Set) map[string]*eventMetrics {
	out := make(map[string]*eventMetrics, len(knownEvents))
	for _, ev := range knownEvents {
		em := &eventMetrics{
			received: s.NewCounter(fmt.Sprintf(`bellhop_events_received_total{event=%q}`, ev)),
			loop:     s.NewHistogram(fmt.Sprintf(`bellhop_event_loop_seconds{event=%q}`, ev)),
		}
		for p := pqueue.High; p < pqueue.NumPriorities; p++ {
			em.published[p] = s.NewCounter(fmt.Sprintf(`bellhop_events_published_total{event=%q,priority=%q}`, ev, p))
			em.processed[p] = s.NewHistogram(fmt.Sprintf(`bellhop_event_processing_seconds{event=%q,priority=%q}`, ev, p))
		}
		out[ev] = em
	}
	return out
}

// event returns the series of event; the map is read-only after start.
func (m *serviceMetrics) event(event string) *eventMetrics {
	if em, ok := m.events[event]; ok {
		return em
	}
	return m.events["other"]
}

// received counts an inbound event and its handling time on the loop.
func (m *serviceMetrics) received(event string, d time.Duration) {
	em := m.event(event)
	em.received.Inc()
	em.loop.Update(d.Seconds())
}

// processed records a worker's handling time of an event.
func (m *serviceMetrics) processed(event string, prio Priority, d time.Duration) {
	m.event(event).processed[min(prio, Low)].Update(d.Seconds())
}

func (m *serviceMetrics) published(event string, prio Priority) {
	m.event(event).published[min(prio, Low)].Inc()
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
