// Package clustertest is the shared test suite of cluster.Broker: every
// implementation (the in-memory broker, the Redis broker) runs the same
// behaviour checks through a factory, so they agree on ordering, recovery
// exactness, idempotency and closing, the way testing/fstest checks any
// fs.FS.
//
// A broker's own test calls it:
//
//	func TestMemoryBroker(t *testing.T) {
//		clustertest.RunBrokerSuite(t, func(t *testing.T, h cluster.Handler) cluster.Broker {
//			return cluster.NewMemoryBroker(cluster.MemoryConfig{MaxHistory: clustertest.MaxHistory}, h)
//		})
//	}
//
// The suite starts goroutines only inside its tests and waits for them
// before each test ends.
package clustertest
