package pqueue_test

import (
	"errors"
	"fmt"

	"github.com/bellhop/bellhop/dispatch/pqueue"
)

// task is what a dispatcher might queue: the event and its handler, by
// value, so Submit does not allocate.
type task struct {
	room  uint64
	event string
}

func Example() {
	done := make(chan string, 3)
	pool, err := pqueue.New(pqueue.Config{Workers: 2}, func(t task) {
		done <- fmt.Sprintf("room %d: %s", t.room, t.event)
	})
	if err != nil {
		panic(err)
	}
	// Events of one room share a key, so they run in order on one worker.
	for _, ev := range []string{"DIRTY", "CLEANING", "CLEANED"} {
		if err := pool.Submit(101, pqueue.High, task{101, ev}); errors.Is(err, pqueue.ErrFull) {
			fmt.Println("overloaded: tell the client, never wait")
		}
	}
	if err := pool.Close(); err != nil { // runs what is queued, then stops
		panic(err)
	}
	close(done)
	for line := range done {
		fmt.Println(line)
	}
	fmt.Println(pool.Stats(pqueue.High).Executed, "executed")
	// Output:
	// room 101: DIRTY
	// room 101: CLEANING
	// room 101: CLEANED
	// 3 executed
}

func ExampleParsePriority() {
	p, err := pqueue.ParsePriority("MEDIUM")
	fmt.Println(p, err)
	_, err = pqueue.ParsePriority("urgent")
	fmt.Println(err)
	// Output:
	// MEDIUM <nil>
	// pqueue: invalid priority "urgent" (want HIGH, MEDIUM or LOW)
}
