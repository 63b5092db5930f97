package bench

import (
	"container/heap"
	"sync"
	"time"
)

// delayQueue runs functions after a delay, in due order, on one goroutine
// it owns from newDelayQueue until stop. Staff use it to accept and
// complete their assignments a little later without a timer goroutine per
// request. Its methods are safe for concurrent use; the functions must not
// block (they queue work to an event loop).
type delayQueue struct {
	mu      sync.Mutex // guards items and stopped
	items   delayHeap
	max     int
	stopped bool
	wake    chan struct{} // capacity 1: an earlier item arrived
	quit    chan struct{}
	done    chan struct{}
}

type delayItem struct {
	due time.Time
	f   func()
}

// delayHeap orders items by due time, earliest first.
type delayHeap []delayItem

func (h delayHeap) Len() int           { return len(h) }
func (h delayHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h delayHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *delayHeap) Push(x any)        { *h = append(*h, x.(delayItem)) }
func (h *delayHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = delayItem{}
	*h = old[:len(old)-1]
	return it
}

// newDelayQueue starts a queue holding at most max waiting functions.
func newDelayQueue(max int) *delayQueue {
	q := &delayQueue{max: max, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go q.loop()
	return q
}

// after schedules f to run d from now. It returns false, without
// scheduling, when the queue is full or stopped.
func (q *delayQueue) after(d time.Duration, f func()) bool {
	q.mu.Lock()
	if q.stopped || len(q.items) >= q.max {
		q.mu.Unlock()
		return false
	}
	due := time.Now().Add(d)
	first := len(q.items) == 0 || due.Before(q.items[0].due)
	heap.Push(&q.items, delayItem{due: due, f: f})
	q.mu.Unlock()
	if first {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// stop ends the goroutine and drops what is waiting. Call it once.
func (q *delayQueue) stop() {
	q.mu.Lock()
	q.stopped = true
	q.items = nil
	q.mu.Unlock()
	close(q.quit)
	<-q.done
}

func (q *delayQueue) loop() {
	defer close(q.done)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		wait, due := q.due(time.Now())
		for _, f := range due {
			f()
		}
		if len(due) > 0 {
			continue // time passed while they ran
		}
		var fire <-chan time.Time
		if wait >= 0 {
			t.Reset(wait)
			fire = t.C
		}
		select {
		case <-fire:
		case <-q.wake:
		case <-q.quit:
			return
		}
	}
}

// due pops the items due at now and returns how long until the next one
// (-1: none).
func (q *delayQueue) due(now time.Time) (time.Duration, []func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var fs []func()
	for len(q.items) > 0 && !q.items[0].due.After(now) {
		fs = append(fs, heap.Pop(&q.items).(delayItem).f)
	}
	if len(q.items) == 0 {
		return -1, fs
	}
	return q.items[0].due.Sub(now), fs
}
