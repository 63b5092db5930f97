package clustertest_test

import (
	"testing"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/cluster/clustertest"
)

// TestSuiteOnMemoryBroker runs the suite on the reference broker, so the
// suite's own code is exercised (and covered) where it lives.
func TestSuiteOnMemoryBroker(t *testing.T) {
	clustertest.RunBrokerSuite(t, func(t *testing.T, h cluster.Handler) cluster.Broker {
		return cluster.NewMemoryBroker(cluster.MemoryConfig{MaxHistory: clustertest.MaxHistory}, h)
	})
}
