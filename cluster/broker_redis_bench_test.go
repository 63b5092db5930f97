package cluster_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/cluster/redistest"
)

// BenchmarkRedisBrokerPublish measures publishes through the Lua path
// (offset, stream append with trimming, SPUBLISH) against a real Redis,
// many at once so rueidis pipelines them, over 64 channels.
func BenchmarkRedisBrokerPublish(b *testing.B) {
	srv, br := benchBroker(b)
	data := make([]byte, 256)
	var n atomic.Int64
	ctx := context.Background()
	b.SetParallelism(32)
	b.SetBytes(int64(len(data)))
	cpu := redisCPU(b, srv)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ch := "h1:bench:" + strconv.FormatInt(n.Add(1)%64, 10)
			if _, err := br.Publish(ctx, ch, data, cluster.PublishOptions{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	reportRedisCPU(b, srv, cpu)
}

// BenchmarkRedisBrokerPublishSerial measures publishes one at a time on
// one channel: the path of a property's alerts, which one dispatch worker
// publishes in order, each waiting for its Lua call. Its ns/op is a round
// trip, the bound on that worker's publishes per second.
func BenchmarkRedisBrokerPublishSerial(b *testing.B) {
	srv, br := benchBroker(b)
	data := make([]byte, 256)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	cpu := redisCPU(b, srv)
	for b.Loop() {
		if _, err := br.Publish(ctx, "h1:bench:system", data, cluster.PublishOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	reportRedisCPU(b, srv, cpu)
}

// benchBroker starts a Redis and a broker on it for one benchmark.
func benchBroker(b *testing.B) (*redistest.Server, *cluster.RedisBroker) {
	srv := redistest.Start(b)
	br, err := cluster.NewRedisBroker(cluster.RedisConfig{Addrs: []string{srv.Addr}, Handler: func(cluster.Publication) {}, MaxHistory: 1000})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = br.Close() })
	return srv, br
}

// redisCPU returns the CPU seconds Redis has used (INFO cpu: user plus
// system, microsecond resolution).
func redisCPU(b *testing.B, srv *redistest.Server) float64 {
	b.Helper()
	out, err := srv.Do("INFO", "cpu")
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for line := range strings.Lines(out) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if k == "used_cpu_user" || k == "used_cpu_sys" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatalf("INFO cpu %q: %v", line, err)
			}
			total += f
		}
	}
	return total
}

// reportRedisCPU reports Redis's CPU time per publish since before, in
// microseconds: what one publish costs the shared Redis of a cluster.
func reportRedisCPU(b *testing.B, srv *redistest.Server, before float64) {
	b.Helper()
	b.ReportMetric((redisCPU(b, srv)-before)*1e6/float64(b.N), "redis-µs/op")
}
