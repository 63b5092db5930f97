package handshake

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

// rwPair is an io.ReadWriter over a head, writing to io.Discard, for the
// gobwas baseline.
type rwPair struct {
	bytes.Reader
	io.Writer
}

func BenchmarkUpgrade(b *testing.B) {
	noDeflate := testConfig
	noDeflate.Deflate = false
	withProtocol := strings.Replace(chromeHead, "Sec-WebSocket-Key:", "Sec-WebSocket-Protocol: bellhop.v1\r\nSec-WebSocket-Key:", 1)
	cases := []struct {
		name string
		cfg  Config
		head string
	}{
		{"client=chrome/deflate=on", testConfig, chromeHead},
		{"client=chrome/deflate=off", noDeflate, chromeHead},
		{"client=chrome-protocol/deflate=on", testConfig, withProtocol},
		{"client=firefox/deflate=on", testConfig, firefoxHead},
		{"client=node/deflate=on", testConfig, nodeHead},
		{"client=chrome/status=403", Config{AllowedOrigins: []string{"https://other.example"}}, chromeHead},
	}
	for _, tc := range cases {
		b.Run(tc.name+"/impl=bellhop", func(b *testing.B) {
			u := mustUpgrader(b, tc.cfg)
			h := []byte(tc.head)
			b.ReportAllocs()
			b.SetBytes(int64(len(h)))
			for b.Loop() {
				_, _ = u.Upgrade(h, io.Discard)
			}
		})
	}
	// Baseline: gobwas alone (no hooks, no copies) on the same head.
	b.Run("client=chrome/deflate=off/impl=gobwas", func(b *testing.B) {
		var up ws.Upgrader
		rw := &rwPair{Writer: io.Discard}
		h := []byte(chromeHead)
		b.ReportAllocs()
		b.SetBytes(int64(len(h)))
		for b.Loop() {
			rw.Reset(h)
			if _, err := up.Upgrade(rw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkFindHead(b *testing.B) {
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"input=chrome", chromeHead},
		{"input=partial", chromeHead[:len(chromeHead)-1]},
	} {
		b.Run(tc.name, func(b *testing.B) {
			in := []byte(tc.in)
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := FindHead(in, DefaultMaxHeadSize); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkQueryValue(b *testing.B) {
	r := Request{Query: "v=2&room=lobby&token=eyJhbGciOiJIUzI1NiJ9.e30.sig"}
	b.ReportAllocs()
	for b.Loop() {
		if r.QueryValue("token") == "" {
			b.Fatal("no token")
		}
	}
}
