// Command client is a small bellhop client for operators and developers: it
// connects, authenticates, subscribes to namespaces, prints every event as a
// JSON line, and sends the envelopes it reads from standard input.
//
//	go run ./tools/client -url ws://127.0.0.1:3001/ws -token "$(go run ./tools/mint ...)" -subscribe rooms,service
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

// run connects and relays until the server closes, stdin ends (after
// -linger) or an interrupt.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "ws://127.0.0.1:3001/ws", "server URL (ws:// or wss://)")
	token := fs.String("token", os.Getenv("BELLHOP_TOKEN"), "JWT, sent with an AUTH event (env BELLHOP_TOKEN)")
	subscribe := fs.String("subscribe", "", "comma-separated namespaces to subscribe to, e.g. rooms,service,me")
	since := fs.String("since", "", "messageId to recover from (applies to every -subscribe)")
	insecure := fs.Bool("insecure", false, "do not verify the server certificate (development only)")
	linger := fs.Duration("linger", 0, "after stdin ends, keep printing this long (0: until the server closes)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	d := ws.Dialer{Timeout: 10 * time.Second, TLSConfig: &tls.Config{InsecureSkipVerify: *insecure}}
	conn, _, _, err := d.Dial(ctx, *url)
	if err != nil {
		return fmt.Errorf("cannot connect to %s: %w", *url, err)
	}
	defer conn.Close()
	send := func(v any) error {
		b, _ := json.Marshal(v)
		return wsutil.WriteClientText(conn, b)
	}
	if *token != "" {
		if err := send(map[string]any{"event": "AUTH", "payload": map[string]string{"token": *token}}); err != nil {
			return err
		}
	}
	for _, ns := range strings.Split(*subscribe, ",") {
		if ns = strings.TrimSpace(ns); ns == "" {
			continue
		}
		payload := map[string]string{}
		if *since != "" {
			payload["since"] = *since
		}
		if err := send(map[string]any{"event": "SUBSCRIBE", "namespace": ns, "payload": payload}); err != nil {
			return err
		}
	}
	done := make(chan error, 1)
	go func() { done <- printEvents(conn, stdout) }()
	go sendLines(conn, stdin, stderr, *linger, done)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = wsutil.WriteClientMessage(conn, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye"))
		return nil
	}
}

// printEvents prints every text message as one line until the connection
// ends; it returns nil on a normal close.
func printEvents(conn net.Conn, out io.Writer) error {
	for {
		msg, op, err := wsutil.ReadServerData(conn)
		if err != nil {
			var ce wsutil.ClosedError
			if errors.As(err, &ce) {
				fmt.Fprintf(out, `{"closed":%d,"reason":%q}`+"\n", ce.Code, ce.Reason)
				if ce.Code == ws.StatusNormalClosure || ce.Code == ws.StatusGoingAway {
					return nil
				}
				return fmt.Errorf("server closed with %d: %s", ce.Code, ce.Reason)
			}
			return err
		}
		if op == ws.OpText {
			fmt.Fprintln(out, strings.TrimSpace(string(msg)))
		}
	}
}

// sendLines sends each stdin line (an envelope) as a text message.
func sendLines(conn net.Conn, in io.Reader, stderr io.Writer, linger time.Duration, done chan<- error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if !json.Valid([]byte(line)) {
			fmt.Fprintln(stderr, "client: not JSON, not sent:", line)
			continue
		}
		if err := wsutil.WriteClientText(conn, []byte(line)); err != nil {
			done <- err
			return
		}
	}
	if linger > 0 {
		time.Sleep(linger)
		select {
		case done <- nil:
		default:
		}
	}
}
