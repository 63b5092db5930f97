package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/bellhop/bellhop/cluster"
)

// adminServer serves /metrics, /healthz, /readyz and, when enabled,
// /debug/pprof on METRICS_PORT. It runs in its own goroutine, owned by app.
type adminServer struct {
	http *http.Server
	addr string // where it listens
	done chan struct{}
}

func startAdmin(a *app, addr string) (*adminServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_PORT: cannot listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		metrics.WritePrometheus(w, true)
		a.srv.Metrics().WritePrometheus(w)
		if a.svc != nil {
			a.svc.Metrics().WritePrometheus(w)
		}
		if a.clusterMetrics != nil {
			a.clusterMetrics.WritePrometheus(w)
		}
	})
	if a.svc != nil {
		mux.Handle("/api/", a.svc.API(a.opts.apiKey))
		mountBoard(mux, a)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if a.srv.Draining() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "draining\n")
			return
		}
		if rb, ok := a.broker.(*cluster.RedisBroker); ok && (rb.Health() != cluster.Healthy || rb.Outboxed() > 0) {
			// Still serving its own clients, so still ready; but the
			// cluster link is down (or publications still wait for it),
			// and monitoring should see it.
			_, _ = io.WriteString(w, "degraded\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	if a.opts.pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	s := &adminServer{
		http: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		addr: ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("admin server stopped", "err", err)
		}
	}()
	a.log.Info("admin listening", "addr", ln.Addr().String())
	return s, nil
}

func (s *adminServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.http.Shutdown(ctx)
	<-s.done
}
