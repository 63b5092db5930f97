package codec

import (
	"bytes"
	"fmt"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

func BenchmarkParse(b *testing.B) {
	for _, size := range []int{16, 128, 1024, 16384} {
		payload := bytes.Repeat([]byte("a"), size)
		frame := clientFrame(true, 0, OpText, payload)
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			buf := make([]byte, len(frame))
			var p Parser
			lim := Limits{MaxFrameSize: 1 << 20, MaxMessageSize: 1 << 20}
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				copy(buf, frame) // parsing unmasks in place
				if _, _, err := p.Next(buf, &lim); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkUnmask(b *testing.B) {
	for _, size := range []int{128, 1024, 16384} {
		buf := make([]byte, size)
		for _, impl := range []string{"bellhop", "naive"} {
			b.Run(fmt.Sprintf("size=%d/impl=%s", size, impl), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(size))
				for b.Loop() {
					if impl == "naive" {
						for i := range buf {
							buf[i] ^= testMask[i&3]
						}
					} else {
						Unmask(buf, testMask, 0)
					}
				}
			})
		}
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	for _, size := range []int{128, 1024, 16384} {
		payload := make([]byte, size)
		b.Run(fmt.Sprintf("size=%d/impl=bellhop", size), func(b *testing.B) {
			dst := make([]byte, 0, size+MaxHeaderSize)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				dst = AppendFrame(dst[:0], OpText, payload, false)
			}
		})
		b.Run(fmt.Sprintf("size=%d/impl=gobwas", size), func(b *testing.B) {
			var w bytes.Buffer
			w.Grow(size + MaxHeaderSize)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				w.Reset()
				_ = ws.WriteFrame(&w, ws.NewTextFrame(payload))
			}
		})
	}
}

func BenchmarkUTF8(b *testing.B) {
	for _, kind := range []string{"ascii", "mixed"} {
		text := bytes.Repeat([]byte(`{"event":"ROOM_STATUS_UPDATE","room":"101"}`), 24)
		if kind == "mixed" {
			text = bytes.Repeat([]byte(`{"guest":"Zoë Ångström 日本 😀"}`), 24)
		}
		b.Run("text="+kind+"/impl=bellhop", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				var u UTF8
				if !u.Write(text) {
					b.Fatal("invalid")
				}
			}
		})
		b.Run("text="+kind+"/impl=stdlib", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				if !utf8.Valid(text) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
