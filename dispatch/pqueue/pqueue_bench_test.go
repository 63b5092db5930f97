package pqueue

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// benchItem is the size of what dispatch queues: an event pointer and a
// handler.
type benchItem struct {
	ev *int
	fn func(*int)
}

// BenchmarkLane measures one push and one pop on one goroutine: the cost
// of the queue without contention, against a buffered channel.
func BenchmarkLane(b *testing.B) {
	x := 1
	it := benchItem{ev: &x}
	b.Run("impl=lockfree", func(b *testing.B) {
		r := newRing[benchItem](1024)
		b.ReportAllocs()
		for b.Loop() {
			r.push(it)
			r.pop()
		}
	})
	b.Run("impl=channel", func(b *testing.B) {
		ch := make(chan benchItem, 1024)
		b.ReportAllocs()
		for b.Loop() {
			ch <- it
			<-ch
		}
	})
}

// BenchmarkLaneParallel has GOMAXPROCS producers push into one lane while
// one consumer pops; ns/op is per item pushed and popped. A full lane is
// retried, as a caller of Submit would on ErrFull.
func BenchmarkLaneParallel(b *testing.B) {
	x := 1
	it := benchItem{ev: &x}
	b.Run("impl=lockfree", func(b *testing.B) {
		r := newRing[benchItem](1024)
		lanePar(b, func() bool { return r.push(it) }, func() bool { _, ok := r.pop(); return ok })
	})
	b.Run("impl=channel", func(b *testing.B) {
		ch := make(chan benchItem, 1024)
		push := func() bool {
			select {
			case ch <- it:
				return true
			default:
				return false
			}
		}
		pop := func() bool {
			select {
			case <-ch:
				return true
			default:
				return false
			}
		}
		lanePar(b, push, pop)
	})
}

// lanePar runs producers with RunParallel and one consumer goroutine, and
// stops the timer only when the consumer has taken every item.
func lanePar(b *testing.B, push, pop func() bool) {
	var pushed, popped atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			if pop() {
				popped.Add(1)
				continue
			}
			select {
			case <-stop:
				if popped.Load() == pushed.Load() {
					return
				}
			default:
			}
			runtime.Gosched()
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		n := int64(0)
		for pb.Next() {
			for !push() {
				runtime.Gosched()
			}
			n++
		}
		pushed.Add(n)
	})
	close(stop)
	wg.Wait()
	b.StopTimer()
}

// submitter is what the end-to-end benchmark needs of a pool.
type submitter interface {
	Submit(key uint64, prio Priority, item benchItem) error
	Close() error
}

// BenchmarkSubmit measures end to end: GOMAXPROCS producers submit items
// with spread keys and mixed priorities (1 HIGH : 2 MEDIUM : 1 LOW) to a
// pool of GOMAXPROCS workers, and the timer stops when every item has run.
// impl=channel is the baseline: one buffered channel per priority per
// shard, drained HIGH first by nested selects.
func BenchmarkSubmit(b *testing.B) {
	impls := []struct {
		name string
		new  func(handle func(benchItem)) submitter
	}{
		{"lockfree", func(h func(benchItem)) submitter {
			p, err := New(Config{}, h)
			if err != nil {
				b.Fatal(err)
			}
			return p
		}},
		{"channel", func(h func(benchItem)) submitter { return newChanPool(Config{}.withDefaults(), h) }},
	}
	for _, impl := range impls {
		b.Run("impl="+impl.name+"/producers=parallel", func(b *testing.B) {
			benchSubmit(b, impl.new, true)
		})
		b.Run("impl="+impl.name+"/producers=1", func(b *testing.B) {
			benchSubmit(b, impl.new, false)
		})
	}
}

var prioMix = [4]Priority{High, Medium, Medium, Low}

func benchSubmit(b *testing.B, newPool func(func(benchItem)) submitter, parallel bool) {
	var ran atomic.Int64
	p := newPool(func(it benchItem) { it.fn(it.ev) })
	x := 1
	it := benchItem{ev: &x, fn: func(*int) { ran.Add(1) }}
	submit := func(i uint64) {
		for p.Submit(i*0x2545F4914F6CDD1D, prioMix[i&3], it) != nil {
			runtime.Gosched() // ErrFull: let the workers catch up
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	if parallel {
		var seed atomic.Uint64
		b.RunParallel(func(pb *testing.PB) {
			i := seed.Add(1) << 40
			for pb.Next() {
				submit(i)
				i++
			}
		})
	} else {
		// A b.N loop rather than b.Loop: the timer must keep running
		// through Close, until the workers have run every item, and
		// b.Loop stops it when it returns false.
		for i := range uint64(b.N) {
			submit(i)
		}
	}
	if err := p.Close(); err != nil { // returns once every item has run
		b.Fatal(err)
	}
	b.StopTimer()
	if got := ran.Load(); got != int64(b.N) {
		b.Fatalf("ran %d of %d items", got, b.N)
	}
}

// BenchmarkSubmitOnly measures Submit alone, the cost an event loop pays:
// items go to a pool whose workers are not running (capacity is refilled
// outside the timer), so no wake-ups or handlers are counted.
func BenchmarkSubmitOnly(b *testing.B) {
	cfg := Config{Workers: 4, HighCapacity: 1 << 16}.withDefaults()
	x := 1
	it := benchItem{ev: &x}
	b.Run("impl=lockfree", func(b *testing.B) {
		p := newPool[benchItem](cfg)
		w := p.newWorker(0, func(benchItem) {})
		b.ReportAllocs()
		for b.Loop() {
			if p.Submit(0, High, it) != nil {
				b.StopTimer()
				for w.turn() > 0 {
				}
				b.StartTimer()
			}
		}
	})
	b.Run("impl=channel", func(b *testing.B) {
		ch := make(chan benchItem, cfg.HighCapacity)
		b.ReportAllocs()
		for b.Loop() {
			select {
			case ch <- it:
			default:
				b.StopTimer()
				for len(ch) > 0 {
					<-ch
				}
				b.StartTimer()
			}
		}
	})
}

// chanPool is the baseline for the benchmarks: the same shape as Pool
// (shards, one worker each, three lanes, ErrFull on overflow) built from
// buffered channels and select.
type chanPool[T any] struct {
	shards []chanShard[T]
	handle func(T)
	wg     sync.WaitGroup
}

type chanShard[T any] struct {
	lanes [NumPriorities]chan T
	quit  chan struct{}
}

func newChanPool[T any](cfg Config, handle func(T)) *chanPool[T] {
	p := &chanPool[T]{shards: make([]chanShard[T], cfg.Workers), handle: handle}
	caps := cfg.capacities()
	for i := range p.shards {
		s := &p.shards[i]
		for prio := range s.lanes {
			s.lanes[prio] = make(chan T, caps[prio])
		}
		s.quit = make(chan struct{})
		p.wg.Go(func() { p.loop(s) })
	}
	return p
}

func (p *chanPool[T]) Submit(key uint64, prio Priority, item T) error {
	s := &p.shards[key%uint64(len(p.shards))]
	select {
	case s.lanes[prio] <- item:
		return nil
	default:
		return ErrFull
	}
}

// loop takes HIGH if any is ready, else MEDIUM, else waits for any lane.
func (p *chanPool[T]) loop(s *chanShard[T]) {
	high, med, low := s.lanes[High], s.lanes[Medium], s.lanes[Low]
	for {
		select {
		case v := <-high:
			p.handle(v)
			continue
		default:
		}
		select {
		case v := <-high:
			p.handle(v)
			continue
		case v := <-med:
			p.handle(v)
			continue
		default:
		}
		select {
		case v := <-high:
			p.handle(v)
		case v := <-med:
			p.handle(v)
		case v := <-low:
			p.handle(v)
		case <-s.quit:
			if len(high)+len(med)+len(low) == 0 {
				return
			}
		}
	}
}

// Close drains and stops the workers; callers stop submitting first.
func (p *chanPool[T]) Close() error {
	for i := range p.shards {
		close(p.shards[i].quit)
	}
	p.wg.Wait()
	return nil
}
