package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// storeCacheTTL bounds how long a node serves a record from its
// client-side cache; Redis invalidates an entry as soon as any node writes
// it, so this only bounds staleness when an invalidation is lost with a
// connection (rueidis then drops that connection's cache anyway).
const storeCacheTTL = time.Minute

// RedisStore is the Store of a cluster: each table is one Redis hash (one
// cluster slot, so a compare-and-set is one Lua call), each field holds
// "<version> <value>". Reads go through rueidis's client-side cache, so a
// snapshot for a new subscriber is usually a local read, and a change made
// on any node evicts the cached copy on every other.
type RedisStore struct {
	b     *RedisBroker // shares its client, and every call goes through its do: deadline and circuit breaker
	marks writeMarks   // this node's writes its cache may not show yet
}

// Store returns the broker's store, on the same Redis connections.
func (b *RedisBroker) Store() *RedisStore { return b.store }

func (s *RedisStore) table(name string) string { return s.b.cfg.Prefix + ":{t:" + name + "}" }

// putScript: KEYS[1] the table hash; ARGV: key, expected version, value.
// It returns {1, version} or {0, current "<version> <value>" or false}.
var putScript = rueidis.NewLuaScript(`
local cur = redis.call("HGET", KEYS[1], ARGV[1])
local ver = 0
if cur then ver = tonumber(string.match(cur, "^(%d+) ")) end
if ver ~= tonumber(ARGV[2]) then return {0, cur} end
ver = ver + 1
redis.call("HSET", KEYS[1], ARGV[1], ver .. " " .. ARGV[3])
return {1, ver}
`)

// deleteScript: KEYS[1] the table hash; ARGV: key, expected version (0:
// any). It returns {1} when deleted, {0} when missing, or {2, current} on
// a conflict.
var deleteScript = rueidis.NewLuaScript(`
local cur = redis.call("HGET", KEYS[1], ARGV[1])
if not cur then return {0} end
if ARGV[2] ~= "0" and tonumber(string.match(cur, "^(%d+) ")) ~= tonumber(ARGV[2]) then return {2, cur} end
redis.call("HDEL", KEYS[1], ARGV[1])
return {1}
`)

// decodeRecord reads "<version> <value>".
func decodeRecord(key, v string) (Record, error) {
	ver, val, ok := strings.Cut(v, " ")
	n, err := strconv.ParseUint(ver, 10, 64)
	if !ok || err != nil || n == 0 {
		return Record{}, fmt.Errorf("cluster: malformed record %q", key)
	}
	return Record{Key: key, Value: []byte(val), Version: n}, nil
}

// Get implements Store, from the client-side cache unless the cache may
// not show this node's last write of the record yet.
func (s *RedisStore) Get(ctx context.Context, table, key string) (Record, error) {
	c := s.b.client
	r, err := s.get(ctx, table, key, func(ctx context.Context) rueidis.RedisResult {
		return c.DoCache(ctx, c.B().Hget().Key(s.table(table)).Field(key).Cache(), storeCacheTTL)
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return r, err
	}
	if s.marks.fresh(table, key, err == nil, r.Version) {
		return r, err
	}
	return s.get(ctx, table, key, func(ctx context.Context) rueidis.RedisResult {
		return c.Do(ctx, c.B().Hget().Key(s.table(table)).Field(key).Build())
	})
}

// get runs one HGET and decodes its answer.
func (s *RedisStore) get(ctx context.Context, table, key string, hget func(context.Context) rueidis.RedisResult) (Record, error) {
	m, err := s.b.do(ctx, hget)
	if rueidis.IsRedisNil(err) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("cluster: get %s/%s: %w", table, key, err)
	}
	v, err := m.ToString()
	if err != nil {
		return Record{}, fmt.Errorf("cluster: get %s/%s: %w", table, key, err)
	}
	return decodeRecord(key, v)
}

// List implements Store, from the cache unless it may not show this
// node's writes to the table yet.
func (s *RedisStore) List(ctx context.Context, table string) ([]Record, error) {
	c := s.b.client
	recs, err := s.list(ctx, table, func(ctx context.Context) rueidis.RedisResult {
		return c.DoCache(ctx, c.B().Hgetall().Key(s.table(table)).Cache(), storeCacheTTL)
	})
	if err != nil {
		return nil, err
	}
	versions := make(map[string]uint64, len(recs))
	for _, r := range recs {
		versions[r.Key] = r.Version
	}
	if s.marks.freshTable(table, versions) {
		return recs, nil
	}
	return s.list(ctx, table, func(ctx context.Context) rueidis.RedisResult {
		return c.Do(ctx, c.B().Hgetall().Key(s.table(table)).Build())
	})
}

// list runs one HGETALL and decodes its answer.
func (s *RedisStore) list(ctx context.Context, table string, hgetall func(context.Context) rueidis.RedisResult) ([]Record, error) {
	m, err := s.b.do(ctx, hgetall)
	if err != nil {
		return nil, fmt.Errorf("cluster: list %s: %w", table, err)
	}
	fields, err := m.AsStrMap()
	if err != nil {
		return nil, fmt.Errorf("cluster: list %s: %w", table, err)
	}
	recs := make([]Record, 0, len(fields))
	for k, v := range fields {
		r, err := decodeRecord(k, v)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// Put implements Store with one Lua compare-and-set.
func (s *RedisStore) Put(ctx context.Context, table, key string, value []byte, expect uint64) (Record, error) {
	res, err := s.b.call(ctx, putScript, []string{s.table(table)}, []string{key, strconv.FormatUint(expect, 10), string(value)})
	if err != nil {
		return Record{}, fmt.Errorf("cluster: put %s/%s: %w", table, key, err)
	}
	if len(res) != 2 {
		return Record{}, fmt.Errorf("cluster: put %s/%s: unexpected answer", table, key)
	}
	if ok, _ := res[0].AsInt64(); ok == 1 {
		ver, _ := res[1].AsInt64()
		s.marks.set(table, key, uint64(ver))
		return Record{Key: key, Value: value, Version: uint64(ver)}, nil
	}
	return Record{}, conflict(key, res[1])
}

// conflict builds the ConflictError for the current value m (nil: the
// record does not exist).
func conflict(key string, m rueidis.RedisMessage) error {
	cur, err := m.ToString()
	if err != nil { // Lua false: no current record
		return &ConflictError{Current: Record{Key: key}}
	}
	r, err := decodeRecord(key, cur)
	if err != nil {
		return err
	}
	return &ConflictError{Current: r}
}

// Delete implements Store.
func (s *RedisStore) Delete(ctx context.Context, table, key string, expect uint64) error {
	res, err := s.b.call(ctx, deleteScript, []string{s.table(table)}, []string{key, strconv.FormatUint(expect, 10)})
	if err != nil {
		return fmt.Errorf("cluster: delete %s/%s: %w", table, key, err)
	}
	if len(res) == 0 {
		return fmt.Errorf("cluster: delete %s/%s: unexpected answer", table, key)
	}
	switch n, _ := res[0].AsInt64(); {
	case n == 1:
		s.marks.set(table, key, markDeleted)
		return nil
	case n == 0:
		return ErrNotFound
	case len(res) == 2:
		return conflict(key, res[1])
	}
	return fmt.Errorf("cluster: delete %s/%s: unexpected answer", table, key)
}
