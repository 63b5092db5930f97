package bench

import (
	"errors"
	"testing"

	"github.com/bellhop/bellhop/codec"
)

// FuzzReadFrame parses arbitrary bytes as a stream of server frames, whole
// and split at a fuzzed offset, and checks that both ways agree, never
// consume more than they were given and never panic.
func FuzzReadFrame(f *testing.F) {
	stream, _ := streamFrames()
	f.Add(stream[:300], 7)
	f.Add(serverFrame(codec.OpText, []byte("hello")), 3)
	f.Add([]byte{0x89, 0x7e, 0x00, 0x7e}, 2)
	f.Add([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}, 5)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		whole, errWhole := parseStream(b, len(b))
		parts, errParts := parseStream(b, split)
		if (errWhole == nil) != (errParts == nil) {
			t.Fatalf("whole err %v, split err %v", errWhole, errParts)
		}
		if errWhole == nil && whole != parts {
			t.Fatalf("whole consumed %d, split %d", whole, parts)
		}
		if errWhole != nil && !errors.Is(errWhole, ErrProtocol) {
			t.Fatalf("error %v is not ErrProtocol", errWhole)
		}
	})
}

// parseStream feeds b[:split] then the rest, as two reads, and returns the
// bytes consumed.
func parseStream(b []byte, split int) (int, error) {
	if split < 0 || split > len(b) {
		split = len(b) / 2
	}
	n, err := consumeFrames(b[:split])
	if err != nil {
		return n, err
	}
	m, err := consumeFrames(b[n:])
	return n + m, err
}

func consumeFrames(b []byte) (int, error) {
	n := 0
	for {
		_, p, m, err := readFrame(b[n:], 1<<16)
		if err == codec.ErrNeedMore {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if m <= 0 || n+m > len(b) || len(p) > m {
			panic("readFrame consumed out of bounds")
		}
		n += m
	}
}

// FuzzReadUpgradeResponse checks the response reader never panics and
// never reports a head longer than its input.
func FuzzReadUpgradeResponse(f *testing.F) {
	nonce := [16]byte([]byte("the sample nonce"))
	f.Add([]byte(response101(&nonce)))
	f.Add([]byte("HTTP/1.1 404 Not Found\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 101 \r\nUpgrade: websocket\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := readUpgradeResponse(b, &nonce, "")
		if n < 0 || n > len(b) || err != nil && n != 0 {
			t.Fatalf("n = %d, err = %v for %d bytes", n, err, len(b))
		}
	})
}
