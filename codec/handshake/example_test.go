package handshake_test

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/bellhop/bellhop/codec/handshake"
)

func ExampleUpgrader_Upgrade() {
	u, err := handshake.NewUpgrader(handshake.Config{
		Paths:          []string{"/ws"},
		AllowedOrigins: []string{"https://*.hotel.example"},
		Protocols:      []string{"bellhop.v1"},
		Deflate:        true,
	})
	if err != nil {
		panic(err)
	}
	in := []byte("GET /ws?token=abc%2B1 HTTP/1.1\r\nHost: api.hotel.example\r\nUpgrade: websocket\r\n" +
		"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Origin: https://app.hotel.example\r\nSec-WebSocket-Protocol: bellhop.v1\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")

	n, err := handshake.FindHead(in, handshake.DefaultMaxHeadSize)
	if err != nil || n == 0 {
		panic("no head")
	}
	var conn bytes.Buffer // the connection in the engine
	req, err := u.Upgrade(in[:n], &conn)
	if err != nil {
		panic(err)
	}
	fmt.Print(strings.ReplaceAll(conn.String(), "\r\n", "\n"))
	fmt.Println(req.Path, req.QueryValue("token"), req.Protocol, req.Deflate)
	// Output:
	// HTTP/1.1 101 Switching Protocols
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
	// Sec-WebSocket-Protocol: bellhop.v1
	// Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover
	//
	// /ws abc+1 bellhop.v1 true
}

func ExampleAppendResponse() {
	resp := handshake.AppendResponse(nil, 503, "too many connections", "Retry-After: 5")
	fmt.Printf("%q\n", resp)
	// Output:
	// "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 21\r\nConnection: close\r\nRetry-After: 5\r\n\r\ntoo many connections\n"
}
