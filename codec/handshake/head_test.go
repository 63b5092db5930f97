package handshake

import (
	"strings"
	"testing"
)

func TestFindHead(t *testing.T) {
	full := minimal("/ws")
	n := len(full)
	cases := []struct {
		name  string
		in    string
		limit int
		want  int
		err   error
	}{
		{"whole", full, 1024, n, nil},
		{"whole-with-next-bytes", full + "\x81\x85", 1024, n, nil},
		{"pipelined-second-head", full + full, 1024, n, nil},
		{"empty", "", 1024, 0, nil},
		{"partial", full[:n-1], 1024, 0, nil},
		{"bare-lf", "GET / HTTP/1.1\nHost: h\n\n", 1024, 0, nil},
		{"mixed-lf", "GET / HTTP/1.1\r\nHost: h\n\r\n", 1024, 0, nil},
		{"at-cap", full, n, n, nil},
		{"one-over-cap", full, n - 1, 0, ErrHeadTooLarge},
		{"one-over-cap-partial", full[:n-1], n - 1, 0, ErrHeadTooLarge},
		{"cap-not-reached", full[:n-2], n - 1, 0, nil},
		{"no-end-at-cap", strings.Repeat("A", 64), 64, 0, ErrHeadTooLarge},
		{"no-end-over-cap", strings.Repeat("A", 65), 64, 0, ErrHeadTooLarge},
		{"default-cap", "G" + strings.Repeat("x", DefaultMaxHeadSize), 0, 0, ErrHeadTooLarge},
		{"default-cap-not-reached", "G" + strings.Repeat("x", DefaultMaxHeadSize-2), -1, 0, nil},
		{"tls-client-hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 1024, 0, ErrMalformed},
		{"lower-case-start", "get / HTTP/1.1\r\n\r\n", 1024, 0, ErrMalformed},
		{"leading-crlf", "\r\nGET / HTTP/1.1\r\n\r\n", 1024, 0, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FindHead([]byte(tc.in), tc.limit)
			if got != tc.want || err != tc.err {
				t.Fatalf("FindHead = %d, %v; want %d, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// TestFindHeadByteByByte feeds each real head one byte at a time, with and
// without resuming, and checks the head is found exactly when complete.
func TestFindHeadByteByByte(t *testing.T) {
	for _, h := range []string{chromeHead, firefoxHead, nodeHead, "G\r\n\r\n"} {
		from := 0
		for i := 1; i <= len(h); i++ {
			b := []byte(h[:i])
			want := 0
			if i == len(h) {
				want = len(h)
			}
			n, err := FindHead(b, len(h))
			if n != want || err != nil {
				t.Fatalf("FindHead(%d of %d bytes) = %d, %v; want %d", i, len(h), n, err, want)
			}
			n, err = FindHeadFrom(b, len(h), from)
			if n != want || err != nil {
				t.Fatalf("FindHeadFrom(%d of %d bytes, from %d) = %d, %v; want %d", i, len(h), from, n, err, want)
			}
			from = i
		}
	}
}

// TestFindHeadFromSplitTerminator resumes with the terminator split at every
// offset across two chunks.
func TestFindHeadFromSplitTerminator(t *testing.T) {
	h := minimal("/ws")
	for cut := len(h) - 4; cut < len(h); cut++ {
		if n, err := FindHeadFrom([]byte(h[:cut]), 1024, 0); n != 0 || err != nil {
			t.Fatalf("cut %d: first part gave %d, %v", cut, n, err)
		}
		if n, err := FindHeadFrom([]byte(h), 1024, cut); n != len(h) || err != nil {
			t.Fatalf("cut %d: got %d, %v; want %d", cut, n, err, len(h))
		}
	}
	if n, err := FindHeadFrom([]byte(h), 1024, 10*len(h)); n != 0 || err != nil {
		t.Fatalf("from beyond len: got %d, %v", n, err)
	}
}

func TestAppendResponse(t *testing.T) {
	cases := []struct {
		name   string
		status int
		reason string
		extra  []string
		want   string
	}{
		{"status=431", 431, "request head too large", nil,
			"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n" +
				"Content-Length: 23\r\nConnection: close\r\n\r\nrequest head too large\n"},
		{"status=503-retry", 503, "too many connections", []string{"Retry-After: 5"},
			"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n" +
				"Content-Length: 21\r\nConnection: close\r\nRetry-After: 5\r\n\r\ntoo many connections\n"},
		{"status=429-injection-dropped", 429, "slow down", []string{"X-A: 1\r\nSet-Cookie: evil=1", "", "X-B: 2", "X-C: 3\n"},
			"HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain; charset=utf-8\r\n" +
				"Content-Length: 10\r\nConnection: close\r\nX-B: 2\r\n\r\nslow down\n"},
		{"status=invalid", 42, "", nil,
			"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n" +
				"Content-Length: 1\r\nConnection: close\r\n\r\n\n"},
		{"status=unknown", 599, "x", nil,
			"HTTP/1.1 599 \r\nContent-Type: text/plain; charset=utf-8\r\n" +
				"Content-Length: 2\r\nConnection: close\r\n\r\nx\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte("keep")
			got := AppendResponse(prefix, tc.status, tc.reason, tc.extra...)
			if string(got) != "keep"+tc.want {
				t.Fatalf("got\n%q\nwant\n%q", got, "keep"+tc.want)
			}
			resp := parseResponse(t, got[len(prefix):])
			if resp.body != tc.reason+"\n" {
				t.Fatalf("body %q", resp.body)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	if got := ErrHeadTooLarge.Error(); got != "handshake: request head too large" {
		t.Fatalf("got %q", got)
	}
	if got, want := string(ErrHeadTooLarge.AppendResponse(nil)), string(AppendResponse(nil, 431, "request head too large")); got != want {
		t.Fatalf("AppendResponse = %q, want %q", got, want)
	}
	if ErrHeadTooLarge.Status != 431 || ErrOrigin.Status != 403 || ErrPath.Status != 404 || ErrVersion.Status != 426 {
		t.Fatal("sentinel statuses changed")
	}
}
