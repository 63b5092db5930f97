package cluster_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/bellhop/bellhop/cluster"
	"github.com/bellhop/bellhop/cluster/redistest"
)

// BenchmarkRedisBrokerPublish measures publishes through the Lua path
// (offset, stream append with trimming, SPUBLISH) against a real Redis,
// many at once so rueidis pipelines them, over 64 channels.
func BenchmarkRedisBrokerPublish(b *testing.B) {
	srv := redistest.Start(b)
	br, err := cluster.NewRedisBroker(cluster.RedisConfig{Addrs: []string{srv.Addr}, Handler: func(cluster.Publication) {}, MaxHistory: 1000})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = br.Close() })
	data := make([]byte, 256)
	var n atomic.Int64
	ctx := context.Background()
	b.SetParallelism(32)
	b.SetBytes(int64(len(data)))
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
}
