package peer

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// ShutdownGrace bounds how long a stopping server waits for its
// connections to finish closing before it exits anyway.
const ShutdownGrace = 2 * time.Second

// readHeaderTimeout bounds the HTTP request before the upgrade only; once a
// connection is hijacked net/http sets no deadline on it, so idle WebSocket
// connections are never dropped.
const readHeaderTimeout = 10 * time.Second

// Main parses the command line, runs serve until SIGINT or SIGTERM, and
// exits: 0 after a clean stop, 2 on bad arguments, 1 when serve fails.
// serve must return once ctx is done. Errors go to stderr; nothing else is
// printed.
func Main(name string, withLoops bool, serve func(ctx context.Context, o Options) error) {
	os.Exit(run(name, withLoops, serve))
}

func run(name string, withLoops bool, serve func(ctx context.Context, o Options) error) int {
	o, err := Parse(name, os.Args[1:], withLoops, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

// Mux routes path to h and answers 404 everywhere else: a ServeMux
// pattern without a trailing slash matches that path only.
func Mux(path string, h http.HandlerFunc) http.Handler {
	m := http.NewServeMux()
	m.HandleFunc(path, h)
	return m
}

// ServeHTTP serves h on addr with net/http until ctx is done, then closes
// the listener and calls closeAll, which must close the hijacked WebSocket
// connections (net/http no longer tracks them) and return once they are
// gone or ShutdownGrace has passed.
func ServeHTTP(ctx context.Context, addr string, h http.Handler, closeAll func()) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	err = srv.Close()
	closeAll()
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return err
}

// Wait waits for wg, or for ShutdownGrace, whichever comes first, so a
// stuck connection cannot hold the process up.
func Wait(wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(ShutdownGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}
