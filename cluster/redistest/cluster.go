package redistest

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// clusterTimeout bounds how long a new cluster may take to agree on its
// slots.
const clusterTimeout = 20 * time.Second

// Cluster is a Redis Cluster of masters without replicas, each a Server,
// created with redis-cli --cluster create.
type Cluster struct {
	Nodes []*Server
}

// StartCluster starts masters cluster-enabled servers (at least 3, as Redis
// Cluster requires), joins them and waits until every node reports
// cluster_state:ok. The nodes stop when the test ends.
func StartCluster(t testing.TB, masters int) *Cluster {
	t.Helper()
	if masters < 3 {
		t.Fatalf("redistest: a Redis Cluster needs at least 3 masters, not %d", masters)
	}
	c := &Cluster{}
	for range masters {
		s := start(t, true, []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", // in the node's own --dir
			"--cluster-node-timeout", "2000",
		})
		c.Nodes = append(c.Nodes, s)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v: %s", err, out)
	}
	deadline := time.Now().Add(clusterTimeout)
	for !c.ready() {
		if time.Now().After(deadline) {
			t.Fatalf("redistest: cluster not ok after %v", clusterTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c
}

// Addrs returns the nodes' addresses.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr
	}
	return addrs
}

// ready reports whether every node sees the cluster as ok.
func (c *Cluster) ready() bool {
	for _, n := range c.Nodes {
		info, err := n.Do("cluster", "info")
		if err != nil || !strings.Contains(info, "cluster_state:ok") {
			return false
		}
	}
	return true
}
