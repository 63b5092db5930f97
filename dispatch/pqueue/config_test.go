package pqueue

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	requireEqual(t, "Workers", c.Workers, runtime.GOMAXPROCS(0))
	requireEqual(t, "capacities", c.capacities(), [NumPriorities]int{DefaultCapacity, DefaultCapacity, DefaultCapacity})
	requireEqual(t, "bursts", c.bursts(), [NumPriorities]int{DefaultHighBurst, DefaultMediumBurst, DefaultLowBurst})
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigRoundsCapacity(t *testing.T) {
	f := func(in, want int) {
		t.Helper()
		c := Config{HighCapacity: in, MediumCapacity: in, LowCapacity: in}.withDefaults()
		requireEqual(t, "capacities", c.capacities(), [NumPriorities]int{want, want, want})
	}
	f(1, 2) // one cell cannot work: see ceilPow2
	f(2, 2)
	f(3, 4)
	f(1000, 1024)
	f(1024, 1024)
	f(1025, 2048)
	f(MaxCapacity, MaxCapacity)
	f(MaxCapacity+1, MaxCapacity+1) // left for validate to reject
	f(-5, -5)
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string // substring of the error
	}{
		{"workers=negative", Config{Workers: -1}, "Workers=-1 must be between 1 and 4096"},
		{"workers=huge", Config{Workers: MaxWorkers + 1}, "Workers=4097"},
		{"high=negative", Config{HighCapacity: -1}, "HighCapacity=-1"},
		{"medium=huge", Config{MediumCapacity: MaxCapacity + 1}, "MediumCapacity=16777217"},
		{"low=negative", Config{LowCapacity: -8}, "LowCapacity=-8"},
		{"highburst=negative", Config{HighBurst: -1}, "HighBurst=-1 must be positive"},
		{"mediumburst=negative", Config{MediumBurst: -2}, "MediumBurst=-2"},
		{"lowburst=negative", Config{LowBurst: -3}, "LowBurst=-3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.cfg, func(int) {})
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: got %v, want ErrConfig containing %q", err, c.want)
			}
		})
	}
}

func TestConfigJoinsErrors(t *testing.T) {
	err := Config{Workers: -1, LowBurst: -1}.withDefaults().validate()
	for _, want := range []string{"Workers=-1", "LowBurst=-1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("validate: got %v, want it to name %s", err, want)
		}
	}
}

func TestNewNilHandler(t *testing.T) {
	p, err := New[int](Config{}, nil)
	if !errors.Is(err, ErrConfig) || p != nil {
		t.Fatalf("New(nil handler) = %v, %v; want nil, ErrConfig", p, err)
	}
}
