// Package cluster moves opaque messages with ordered IDs between nodes and
// keeps their history for recovery: the Broker interface, the in-memory
// broker that serves a single node without Redis, and the Redis broker that
// joins nodes into a cluster. It knows nothing of sockets.
package cluster
