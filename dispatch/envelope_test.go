package dispatch

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	json "github.com/goccy/go-json"
)

// TestWithMessageID checks the id goes first and the result stays one
// valid JSON object.
func TestWithMessageID(t *testing.T) {
	cases := []struct{ env, id, want string }{
		{`{"event":"X"}`, "e-1", `{"messageId":"e-1","event":"X"}`},
		{`{}`, "e-2", `{"messageId":"e-2"}`},
		{`{ }`, "e-3", `{"messageId":"e-3" }`},
		{`{"a":{"b":1},"c":[1,2]}`, "5f2a91c0-42", `{"messageId":"5f2a91c0-42","a":{"b":1},"c":[1,2]}`},
		{`{"event":"X"}`, `we"ird`, `{"messageId":"we\"ird","event":"X"}`},
	}
	for _, tc := range cases {
		got := withMessageID([]byte("prefix:")[:0], []byte(tc.env), tc.id)
		if string(got) != tc.want {
			t.Fatalf("withMessageID(%s, %q) = %s, want %s", tc.env, tc.id, got, tc.want)
		}
		var v map[string]any
		if err := json.Unmarshal(got, &v); err != nil || v["messageId"] != tc.id {
			t.Fatalf("result %s is not an object with the id: %v", got, err)
		}
	}
	// It appends to dst.
	if got := withMessageID([]byte("x"), []byte(`{}`), "e-1"); string(got) != `x{"messageId":"e-1"}` {
		t.Fatalf("append: %s", got)
	}
}

// TestDecodeEnvelope checks what the decoder accepts and how it refuses.
func TestDecodeEnvelope(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		in   string
		ok   bool
		want Envelope
	}{
		{`{"event":"SUBSCRIBE","namespace":"rooms","payload":{"since":"e-1"},"correlationId":"c1"}`, true,
			Envelope{Event: "SUBSCRIBE", Namespace: "rooms", Payload: json.RawMessage(`{"since":"e-1"}`), CorrelationID: "c1"}},
		{`{"event":"ACK","priority":"LOW","sender":"x","timestamp":"t","messageId":"m"}`, true,
			Envelope{Event: "ACK", Priority: "LOW", Sender: "x", Timestamp: "t", MessageID: "m"}},
		{`{"event":"X","extra":[1,2,{"deep":true}]}`, true, Envelope{Event: "X"}},
		{`{"event":"` + long(64) + `","namespace":"` + long(64) + `","correlationId":"` + long(128) + `"}`, true,
			Envelope{Event: long(64), Namespace: long(64), CorrelationID: long(128)}},
		{`{"event":"` + long(65) + `"}`, false, Envelope{}},
		{`{"event":"X","namespace":"` + long(65) + `"}`, false, Envelope{}},
		{`{"event":"X","correlationId":"` + long(129) + `"}`, false, Envelope{}},
		{`{"event":"X","priority":"URGENT"}`, false, Envelope{}},
		{`{"event":"X","priority":"high"}`, false, Envelope{}},
		{`{"event":""}`, false, Envelope{}},
		{`{}`, false, Envelope{}},
		{`null`, false, Envelope{}},
		{`[]`, false, Envelope{}},
		{`"event"`, false, Envelope{}},
		{`{"event":1}`, false, Envelope{}},
		{`{"event":"X"`, false, Envelope{}},
		{``, false, Envelope{}},
		{`{"event":"X","payload":` + strings.Repeat("[", 33) + strings.Repeat("]", 33) + `}`, false, Envelope{}},
		{`{"event":"X","payload":{"s":"` + strings.Repeat("a", 16<<10+1) + `"}}`, false, Envelope{}},
	}
	for _, tc := range cases {
		var env Envelope
		err := decodeEnvelope([]byte(tc.in), &env, defaultJSONLimits)
		if tc.ok != (err == nil) {
			t.Fatalf("decodeEnvelope(%.80s): err %v, want ok %v", tc.in, err, tc.ok)
		}
		if !tc.ok {
			if e := asError(err); e.Code != CodeBadMessage {
				t.Fatalf("decodeEnvelope(%.80s): code %s, want BAD_MESSAGE", tc.in, e.Code)
			}
			continue
		}
		if fmt.Sprint(env) != fmt.Sprint(tc.want) {
			t.Fatalf("decodeEnvelope(%.80s) = %+v, want %+v", tc.in, env, tc.want)
		}
	}
}

// TestEncode checks the server's envelope: fields set, payload embedded.
func TestEncode(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 5e6, time.FixedZone("CET", 3600))
	b, err := encode(EventError, "", errorPayload{Code: CodeForbidden, Message: "no"}, High, "c-1", "server", now)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":"ERROR","payload":{"code":"FORBIDDEN","message":"no"},"timestamp":"2026-11-25T09:00:00.005Z","correlationId":"c-1","sender":"server","priority":"HIGH"}`
	if string(b) != want {
		t.Fatalf("encode = %s\nwant     %s", b, want)
	}
	if _, err := encode(EventError, "", func() {}, High, "", "", now); err == nil {
		t.Fatal("encoding a func succeeded")
	}
}

// TestParsePriority checks the wire names and the default.
func TestParsePriority(t *testing.T) {
	for in, want := range map[string]Priority{"HIGH": High, "MEDIUM": Medium, "LOW": Low} {
		if p, ok := parsePriority(in, Low); !ok || p != want {
			t.Fatalf("parsePriority(%q) = %v %v", in, p, ok)
		}
	}
	for _, in := range []string{"", "high", "URGENT"} {
		if p, ok := parsePriority(in, Medium); ok || p != Medium {
			t.Fatalf("parsePriority(%q) = %v %v, want the default", in, p, ok)
		}
	}
}

// TestErrors checks the client-facing error type and its mapping.
func TestErrors(t *testing.T) {
	e := newError(CodeNotFound, "no room 7")
	if e.Error() != "dispatch: NOT_FOUND: no room 7" {
		t.Fatalf("Error() = %q", e.Error())
	}
	if got := asError(fmt.Errorf("wrapped: %w", e)); got != e {
		t.Fatalf("asError lost the wrapped error: %v", got)
	}
	if got := asError(errors.New("disk on fire")); got.Code != CodeInternal || strings.Contains(got.Message, "fire") {
		t.Fatalf("a foreign error leaks to the client: %+v", got)
	}
	b, err := json.Marshal(e)
	if err != nil || string(b) != `{"code":"NOT_FOUND","message":"no room 7"}` {
		t.Fatalf("JSON %s %v", b, err)
	}
	statuses := map[Code]int{
		CodeBadMessage: http.StatusBadRequest, CodeInvalidPayload: http.StatusBadRequest, CodeUnknownEvent: http.StatusBadRequest,
		CodeBadNamespace: http.StatusBadRequest, CodeForbidden: http.StatusForbidden, CodeNotFound: http.StatusNotFound,
		CodeIllegalTransition: http.StatusConflict, CodeVersionConflict: http.StatusConflict,
		CodeRateLimited: http.StatusTooManyRequests, CodeOverloaded: http.StatusServiceUnavailable,
		CodeUnavailable: http.StatusServiceUnavailable, CodeNoStaff: http.StatusServiceUnavailable,
		CodeInternal: http.StatusInternalServerError, CodeAuthFailed: http.StatusInternalServerError,
	}
	for code, want := range statuses {
		if got := statusOf(newError(code, "x")); got != want {
			t.Fatalf("statusOf(%s) = %d, want %d", code, got, want)
		}
	}
}

// TestIdempotencyCache checks the API's memory of answers by key.
func TestIdempotencyCache(t *testing.T) {
	ok := func(n int) func() (int, apiAnswer) {
		return func() (int, apiAnswer) { return http.StatusOK, apiAnswer{OK: true, MessageID: fmt.Sprint(n)} }
	}
	t.Run("replay", func(t *testing.T) {
		m := newIdempotency(10, time.Hour)
		if _, a, replayed := m.do("k", ok(1)); replayed || a.MessageID != "1" {
			t.Fatalf("first call: %+v replayed %v", a, replayed)
		}
		if _, a, replayed := m.do("k", ok(2)); !replayed || a.MessageID != "1" {
			t.Fatalf("second call: %+v replayed %v, want the first answer", a, replayed)
		}
		if _, a, replayed := m.do("other", ok(3)); replayed || a.MessageID != "3" {
			t.Fatalf("other key: %+v replayed %v", a, replayed)
		}
	})
	t.Run("server_errors_not_remembered", func(t *testing.T) {
		m := newIdempotency(10, time.Hour)
		m.do("k", func() (int, apiAnswer) { return http.StatusServiceUnavailable, apiAnswer{} })
		if status, a, replayed := m.do("k", ok(2)); replayed || status != http.StatusOK || a.MessageID != "2" {
			t.Fatalf("retry after 503: %d %+v replayed %v", status, a, replayed)
		}
		m.do("c", func() (int, apiAnswer) { return http.StatusConflict, apiAnswer{} }) // a 4xx is an answer
		if status, _, replayed := m.do("c", ok(3)); !replayed || status != http.StatusConflict {
			t.Fatalf("retry after 409: %d replayed %v", status, replayed)
		}
	})
	t.Run("expiry", func(t *testing.T) {
		m := newIdempotency(10, time.Nanosecond)
		m.do("k", ok(1))
		time.Sleep(time.Millisecond) // past the 1 ns TTL: the clock is real
		if _, a, replayed := m.do("k", ok(2)); replayed || a.MessageID != "2" {
			t.Fatalf("after the TTL: %+v replayed %v", a, replayed)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		m := newIdempotency(2, time.Hour)
		m.do("a", ok(1))
		m.do("b", ok(2))
		m.do("c", ok(3)) // evicts a
		if _, _, replayed := m.do("b", ok(4)); !replayed {
			t.Fatal("b was evicted before a")
		}
		if _, a, replayed := m.do("a", ok(5)); replayed || a.MessageID != "5" {
			t.Fatalf("a: %+v replayed %v, want evicted", a, replayed)
		}
		m.mu.Lock()
		n, order := len(m.calls), len(m.order)
		m.mu.Unlock()
		if n > 2 || order > 2 {
			t.Fatalf("%d calls and %d keys held, bound 2", n, order)
		}
	})
	t.Run("concurrent_duplicates_wait", func(t *testing.T) {
		m := newIdempotency(10, time.Hour)
		release := make(chan struct{})
		var runs atomic.Int32
		slow := func() (int, apiAnswer) {
			runs.Add(1)
			<-release
			return http.StatusOK, apiAnswer{MessageID: "only"}
		}
		var wg sync.WaitGroup
		answers := make(chan string, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, a, _ := m.do("k", slow)
				answers <- a.MessageID
			}()
		}
		for runs.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		close(release)
		wg.Wait()
		close(answers)
		for a := range answers {
			if a != "only" {
				t.Fatalf("answer %q", a)
			}
		}
		if n := runs.Load(); n != 1 {
			t.Fatalf("the call ran %d times", n)
		}
	})
}

// defaultJSONLimits are the Service's defaults.
var defaultJSONLimits = jsonLimits{depth: DefaultMaxJSONDepth, string: DefaultMaxJSONString}

// TestJSONLimits checks the pre-decode scan: nesting and string length,
// with brackets and quotes inside strings not counted.
func TestJSONLimits(t *testing.T) {
	lim := jsonLimits{depth: 3, string: 5}
	cases := []struct {
		name, in string
		ok       bool
	}{
		{"flat", `{"a":"12345"}`, true},
		{"depth_3", `{"a":[{"b":1}]}`, true},
		{"depth_4", `{"a":[{"b":[1]}]}`, false},
		{"brackets_in_string", `{"a":"[[[["}`, true},
		{"escaped_quote", `{"a":"\"[[["}`, true},
		{"string_6", `{"a":"123456"}`, false},
		{"key_too_long", `{"abcdef":1}`, false},
		{"escape_counts", `{"a":"\n\n\n"}`, false},
		{"unclosed", `{"a":[[`, true}, // left to the decoder
		{"siblings", `[[1],[2],[3],[4]]`, true},
	}
	for _, tc := range cases {
		if err := lim.check([]byte(tc.in)); (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
