package cluster

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// RedisCoordinator is the Coordinator of a cluster joined through Redis.
// A presence group is a hash of values beside a sorted set of expiry
// times (Redis 7.0 has no per-field TTL), both under one hash tag; expiry
// uses Redis's clock, so nodes' clocks need not agree. A lease is a key
// set with NX and a TTL. Deadlines are one sorted set scored by due time.
// Every call goes through the broker's do: deadline and circuit breaker.
type RedisCoordinator struct {
	b *RedisBroker
}

// Coordinator returns the broker's coordinator, on the same Redis connections.
func (b *RedisBroker) Coordinator() *RedisCoordinator { return &RedisCoordinator{b: b} }

func (c *RedisCoordinator) presenceKeys(group string) []string {
	base := c.b.cfg.Prefix + ":{pr:" + group + "}:"
	return []string{base + "v", base + "exp"}
}

func (c *RedisCoordinator) deadlinesKey() string { return c.b.cfg.Prefix + ":{deadlines}" }

func (c *RedisCoordinator) leaseKey(name string) string {
	return c.b.cfg.Prefix + ":{lease:" + name + "}"
}

// setPresenceScript: KEYS values hash, expiry zset; ARGV key, value, ttl ms.
// The group's keys live as long as its longest-lived entry.
var setPresenceScript = rueidis.NewLuaScript(`
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call("HSET", KEYS[1], ARGV[1], ARGV[2])
redis.call("ZADD", KEYS[2], now + ttl, ARGV[1])
for i = 1, 2 do
  if redis.call("PTTL", KEYS[i]) < ttl then redis.call("PEXPIRE", KEYS[i], ttl) end
end
return 1
`)

// presenceScript: KEYS values hash, expiry zset. It drops expired entries
// and returns the rest as a flat key, value list.
var presenceScript = rueidis.NewLuaScript(`
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gone = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", now)
if #gone > 0 then
  redis.call("ZREM", KEYS[2], unpack(gone))
  redis.call("HDEL", KEYS[1], unpack(gone))
end
return redis.call("HGETALL", KEYS[1])
`)

// removePresenceScript: KEYS values hash, expiry zset; ARGV key.
var removePresenceScript = rueidis.NewLuaScript(`
redis.call("HDEL", KEYS[1], ARGV[1])
redis.call("ZREM", KEYS[2], ARGV[1])
return 1
`)

// leaseScript: KEYS the lease; ARGV holder, ttl ms. 1 when held.
var leaseScript = rueidis.NewLuaScript(`
local cur = redis.call("GET", KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
return 1
`)

// releaseScript: KEYS the lease; ARGV holder.
var releaseScript = rueidis.NewLuaScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("DEL", KEYS[1]) end
return 1
`)

// claimScript: KEYS the deadlines zset; ARGV key, now ms, retry ms. 1 when claimed.
var claimScript = rueidis.NewLuaScript(`
local at = redis.call("ZSCORE", KEYS[1], ARGV[1])
if not at or tonumber(at) > tonumber(ARGV[2]) then return 0 end
redis.call("ZADD", KEYS[1], ARGV[3], ARGV[1])
return 1
`)

func (c *RedisCoordinator) exec(ctx context.Context, s *rueidis.Lua, keys, args []string) (rueidis.RedisMessage, error) {
	return c.b.do(ctx, func(ctx context.Context) rueidis.RedisResult { return s.Exec(ctx, c.b.client, keys, args) })
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// SetPresence implements Coordinator.
func (c *RedisCoordinator) SetPresence(ctx context.Context, group, key string, value []byte, ttl time.Duration) error {
	_, err := c.exec(ctx, setPresenceScript, c.presenceKeys(group),
		[]string{key, string(value), strconv.FormatInt(max(1, ttl.Milliseconds()), 10)})
	return err
}

// RemovePresence implements Coordinator.
func (c *RedisCoordinator) RemovePresence(ctx context.Context, group, key string) error {
	_, err := c.exec(ctx, removePresenceScript, c.presenceKeys(group), []string{key})
	return err
}

// Presence implements Coordinator.
func (c *RedisCoordinator) Presence(ctx context.Context, group string) ([]Record, error) {
	m, err := c.exec(ctx, presenceScript, c.presenceKeys(group), nil)
	if err != nil {
		return nil, err
	}
	kv, err := m.AsStrSlice()
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, Record{Key: kv[i], Value: []byte(kv[i+1])})
	}
	return out, nil
}

// Lease implements Coordinator.
func (c *RedisCoordinator) Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	m, err := c.exec(ctx, leaseScript, []string{c.leaseKey(name)}, []string{holder, strconv.FormatInt(max(1, ttl.Milliseconds()), 10)})
	if err != nil {
		return false, err
	}
	n, err := m.AsInt64()
	return n == 1, err
}

// ReleaseLease implements Coordinator.
func (c *RedisCoordinator) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := c.exec(ctx, releaseScript, []string{c.leaseKey(name)}, []string{holder})
	return err
}

// Schedule implements Coordinator.
func (c *RedisCoordinator) Schedule(ctx context.Context, key string, at time.Time) error {
	cmd := c.b.client.B().Zadd().Key(c.deadlinesKey()).ScoreMember().ScoreMember(float64(at.UnixMilli()), key).Build()
	_, err := c.b.do(ctx, func(ctx context.Context) rueidis.RedisResult { return c.b.client.Do(ctx, cmd) })
	return err
}

// Due implements Coordinator.
func (c *RedisCoordinator) Due(ctx context.Context, now time.Time, limit int) ([]string, error) {
	cmd := c.b.client.B().Zrangebyscore().Key(c.deadlinesKey()).Min("-inf").Max(ms(now)).Limit(0, int64(limit)).Build()
	m, err := c.b.do(ctx, func(ctx context.Context) rueidis.RedisResult { return c.b.client.Do(ctx, cmd) })
	if err != nil {
		return nil, err
	}
	return m.AsStrSlice()
}

// Claim implements Coordinator.
func (c *RedisCoordinator) Claim(ctx context.Context, key string, now, retry time.Time) (bool, error) {
	m, err := c.exec(ctx, claimScript, []string{c.deadlinesKey()}, []string{key, ms(now), ms(retry)})
	if err != nil {
		return false, err
	}
	n, err := m.AsInt64()
	return n == 1, err
}

// Cancel implements Coordinator.
func (c *RedisCoordinator) Cancel(ctx context.Context, key string) error {
	cmd := c.b.client.B().Zrem().Key(c.deadlinesKey()).Member(key).Build()
	_, err := c.b.do(ctx, func(ctx context.Context) rueidis.RedisResult { return c.b.client.Do(ctx, cmd) })
	return err
}
