package bench

import (
	"fmt"
	"strconv"
	"strings"
)

// maxCPU bounds CPU numbers in a CPU list.
const maxCPU = 1023

// ParseCPUList parses a CPU list as taskset -c takes it: comma-separated
// numbers and first-last ranges, e.g. "0", "1,3", "0-1". It returns the CPUs
// in the order written, without duplicates.
func ParseCPUList(s string) ([]int, error) {
	var cpus []int
	seen := map[int]bool{}
	for part := range strings.SplitSeq(s, ",") {
		first, last, isRange := strings.Cut(strings.TrimSpace(part), "-")
		lo, err1 := strconv.Atoi(first)
		hi := lo
		var err2 error
		if isRange {
			hi, err2 = strconv.Atoi(last)
		}
		if err1 != nil || err2 != nil || lo < 0 || hi < lo || hi > maxCPU {
			return nil, fmt.Errorf("%w: CPU list %q: want numbers or ranges such as 0,2-3", ErrBadConfig, s)
		}
		for c := lo; c <= hi; c++ {
			if !seen[c] {
				seen[c] = true
				cpus = append(cpus, c)
			}
		}
	}
	return cpus, nil
}
