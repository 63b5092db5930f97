package bench

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// PinProcess restricts every thread of process pid to cpus. A CPU mask
// belongs to a thread, not a process, so it sets each thread listed in
// /proc/<pid>/task, twice over in case a thread was being created; threads
// started later inherit the mask of the thread that creates them. Use
// os.Getpid() to pin the harness itself (and set GOMAXPROCS to len(cpus)).
func PinProcess(pid int, cpus []int) error {
	if len(cpus) == 0 {
		return fmt.Errorf("%w: empty CPU list", ErrBadConfig)
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	for range 2 {
		tasks, err := os.ReadDir(procPath(pid, "task"))
		if err != nil {
			return procErr(pid, err)
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("cannot pin thread %d of pid %d to CPUs %v: %w", tid, pid, cpus, err)
			}
		}
	}
	return nil
}
