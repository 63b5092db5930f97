package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/engine"
)

// envOf returns a getenv that reads from m.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	o, err := loadConfig(nil, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	e := o.engine
	got := map[string]any{
		"WS_HOST": o.host, "WS_PORT": o.port, "WS_PATH": o.path, "ECHO_PATH": o.echoPath,
		"SSL_ENABLED": o.sslEnabled, "SSL_CERT_PATH": o.sslCert, "SSL_KEY_PATH": o.sslKey, "TLS_MIN_VERSION": o.tlsMin,
		"MAX_CONNECTIONS": e.MaxConnections, "MAX_MESSAGE_SIZE": e.MaxMessageSize, "MAX_FRAME_SIZE": e.MaxFrameSize,
		"MAX_FRAGMENTS": e.MaxFragments, "MAX_HEAD_SIZE": e.MaxHeadSize, "MAX_OUTBOUND_BYTES": e.MaxOutbound,
		"IDLE_TIMEOUT": e.IdleTimeout, "HANDSHAKE_TIMEOUT": e.HandshakeTimeout, "PING_INTERVAL": e.PingInterval,
		"CLOSE_TIMEOUT": e.CloseTimeout, "ENABLE_COMPRESSION": e.Deflate, "COMPRESS_THRESHOLD": e.CompressThreshold,
		"ALLOWED_ORIGINS": o.origins, "WS_PROTOCOLS": o.protocols, "EVENT_LOOPS": e.Loops, "MULTICORE": e.Multicore,
		"LOAD_BALANCING": e.LB, "REUSE_PORT": e.ReusePort, "READ_BUFFER_CAP": e.ReadBufferCap,
		"WRITE_BUFFER_CAP": e.WriteBufferCap, "ENABLE_METRICS": o.enableMetrics, "METRICS_PORT": o.metricsPort,
		"METRICS_HOST": o.metricsHost, "ENABLE_PPROF": o.pprof, "SHUTDOWN_TIMEOUT": o.shutdownTimeout,
		"LOG_LEVEL": o.logLevel,
	}
	want := map[string]any{
		"WS_HOST": "0.0.0.0", "WS_PORT": 3001, "WS_PATH": "/ws", "ECHO_PATH": "",
		"SSL_ENABLED": false, "SSL_CERT_PATH": "", "SSL_KEY_PATH": "", "TLS_MIN_VERSION": "1.3",
		"MAX_CONNECTIONS": 10000, "MAX_MESSAGE_SIZE": int64(1 << 20), "MAX_FRAME_SIZE": int64(1 << 20),
		"MAX_FRAGMENTS": 1024, "MAX_HEAD_SIZE": 8192, "MAX_OUTBOUND_BYTES": 4 << 20,
		"IDLE_TIMEOUT": 60 * time.Second, "HANDSHAKE_TIMEOUT": 10 * time.Second, "PING_INTERVAL": 20 * time.Second,
		"CLOSE_TIMEOUT": 5 * time.Second, "ENABLE_COMPRESSION": true, "COMPRESS_THRESHOLD": 512,
		"ALLOWED_ORIGINS": []string(nil), "WS_PROTOCOLS": []string{"bellhop.v1"}, "EVENT_LOOPS": 0, "MULTICORE": true,
		"LOAD_BALANCING": engine.RoundRobin, "REUSE_PORT": false, "READ_BUFFER_CAP": 65536,
		"WRITE_BUFFER_CAP": 65536, "ENABLE_METRICS": true, "METRICS_PORT": 9090,
		"METRICS_HOST": "0.0.0.0", "ENABLE_PPROF": false, "SHUTDOWN_TIMEOUT": 15 * time.Second,
		"LOG_LEVEL": slog.LevelInfo,
	}
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("default %s = %#v, want %#v", k, got[k], w)
		}
	}
	// The engine's own defaults agree with the binary's, so a zero Config
	// field and an unset variable mean the same.
	if e.IdleTimeout != engine.DefaultIdleTimeout || e.MaxConnections != engine.DefaultMaxConnections ||
		e.PingInterval != engine.DefaultPingInterval || e.MaxOutbound != engine.DefaultMaxOutbound {
		t.Errorf("binary defaults differ from engine defaults: %+v", e)
	}
}

func TestLoadConfigSources(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(o *options) bool
	}{
		{"env_overrides_default", map[string]string{"WS_PORT": "4000"}, nil,
			func(o *options) bool { return o.port == 4000 }},
		{"flag_overrides_env", map[string]string{"WS_PORT": "4000"}, []string{"-port", "5000"},
			func(o *options) bool { return o.port == 5000 }},
		{"flag_overrides_default", nil, []string{"-path=/hotel"},
			func(o *options) bool { return o.path == "/hotel" }},
		{"empty_env_is_unset", map[string]string{"WS_PATH": ""}, nil,
			func(o *options) bool { return o.path == "/ws" }},
		{"ssl_flag_alone_is_true", nil, []string{"-ssl", "-ssl-cert", "c.pem", "-ssl-key", "k.pem"},
			func(o *options) bool { return o.sslEnabled && o.sslCert == "c.pem" && o.sslKey == "k.pem" }},
		{"ssl_env_then_flag_false", map[string]string{"SSL_ENABLED": "true"}, []string{"-ssl=false"},
			func(o *options) bool { return !o.sslEnabled }},
		{"bool_env_forms", map[string]string{"ENABLE_COMPRESSION": "0", "REUSE_PORT": "TRUE", "MULTICORE": "f"}, nil,
			func(o *options) bool { return !o.engine.Deflate && o.engine.ReusePort && !o.engine.Multicore }},
		{"ping_zero_disables", map[string]string{"PING_INTERVAL": "0"}, nil,
			func(o *options) bool { return o.engine.PingInterval < 0 }},
		{"durations", map[string]string{"IDLE_TIMEOUT": "90s", "HANDSHAKE_TIMEOUT": "1500ms", "CLOSE_TIMEOUT": "1m"}, nil,
			func(o *options) bool {
				return o.engine.IdleTimeout == 90*time.Second && o.engine.HandshakeTimeout == 1500*time.Millisecond &&
					o.engine.CloseTimeout == time.Minute
			}},
		{"lists_trimmed", map[string]string{"ALLOWED_ORIGINS": " https://a.example , ,https://*.hotel.example", "WS_PROTOCOLS": "v2,v1"}, nil,
			func(o *options) bool {
				return reflect.DeepEqual(o.origins, []string{"https://a.example", "https://*.hotel.example"}) &&
					reflect.DeepEqual(o.protocols, []string{"v2", "v1"})
			}},
		{"protocols_cleared_by_flag", nil, []string{"-protocols="},
			func(o *options) bool { return len(o.protocols) == 0 }},
		{"load_balancing", map[string]string{"LOAD_BALANCING": "least-connections"}, nil,
			func(o *options) bool { return o.engine.LB == engine.LeastConnections && o.lb == "least-connections" }},
		{"log_level_any_case", map[string]string{"LOG_LEVEL": "DEBUG"}, nil,
			func(o *options) bool { return o.logLevel == slog.LevelDebug }},
		{"tls_1_2", map[string]string{"TLS_MIN_VERSION": "1.2"}, nil,
			func(o *options) bool { return o.tlsMin == "1.2" }},
		{"ports_zero", map[string]string{"WS_PORT": "0", "METRICS_PORT": "0"}, nil,
			func(o *options) bool { return o.port == 0 && o.metricsPort == 0 }},
		{"same_port_without_metrics", map[string]string{"WS_PORT": "9090", "ENABLE_METRICS": "false"}, nil,
			func(o *options) bool { return o.port == 9090 && !o.enableMetrics }},
		{"echo_path", map[string]string{"ECHO_PATH": "/echo"}, nil,
			func(o *options) bool { return o.echoPath == "/echo" }},
		{"sizes", map[string]string{"MAX_FRAME_SIZE": "65536", "MAX_MESSAGE_SIZE": "131072", "MAX_OUTBOUND_BYTES": "4096"}, nil,
			func(o *options) bool {
				return o.engine.MaxFrameSize == 65536 && o.engine.MaxMessageSize == 131072 && o.engine.MaxOutbound == 4096
			}},
	}
	for _, tc := range cases {
		t.Run("case="+tc.name, func(t *testing.T) {
			o, err := loadConfig(tc.args, envOf(tc.env), io.Discard)
			if err != nil {
				t.Fatalf("loadConfig(%q, %v): %v", tc.args, tc.env, err)
			}
			if !tc.check(o) {
				t.Fatalf("loadConfig(%q, %v) = %+v", tc.args, tc.env, *o)
			}
		})
	}
}

func TestLoadConfigInvalid(t *testing.T) {
	cases := []struct {
		env  map[string]string
		args []string
		want []string // substrings of the error
	}{
		{env: map[string]string{"WS_PORT": "abc"}, want: []string{"WS_PORT", "abc"}},
		{env: map[string]string{"WS_PORT": "70000"}, want: []string{"WS_PORT"}},
		{env: map[string]string{"WS_PORT": "-1"}, want: []string{"WS_PORT"}},
		{env: map[string]string{"METRICS_PORT": "x"}, want: []string{"METRICS_PORT"}},
		{env: map[string]string{"WS_PATH": "ws"}, want: []string{"WS_PATH"}},
		{env: map[string]string{"WS_PATH": "/ws?x=1"}, want: []string{"WS_PATH"}},
		{env: map[string]string{"ECHO_PATH": "echo"}, want: []string{"ECHO_PATH"}},
		{env: map[string]string{"SSL_ENABLED": "yes"}, want: []string{"SSL_ENABLED"}},
		{env: map[string]string{"TLS_MIN_VERSION": "1.1"}, want: []string{"TLS_MIN_VERSION"}},
		{env: map[string]string{"MAX_CONNECTIONS": "0"}, want: []string{"MAX_CONNECTIONS"}},
		{env: map[string]string{"MAX_MESSAGE_SIZE": "1k"}, want: []string{"MAX_MESSAGE_SIZE"}},
		{env: map[string]string{"MAX_FRAME_SIZE": "100"}, want: []string{"MAX_FRAME_SIZE"}},
		{env: map[string]string{"MAX_FRAGMENTS": "0"}, want: []string{"MAX_FRAGMENTS"}},
		{env: map[string]string{"MAX_HEAD_SIZE": "100"}, want: []string{"MAX_HEAD_SIZE"}},
		{env: map[string]string{"MAX_OUTBOUND_BYTES": "1024"}, want: []string{"MAX_OUTBOUND_BYTES"}},
		{env: map[string]string{"IDLE_TIMEOUT": "60"}, want: []string{"IDLE_TIMEOUT"}},
		{env: map[string]string{"IDLE_TIMEOUT": "0s"}, want: []string{"IDLE_TIMEOUT"}},
		{env: map[string]string{"HANDSHAKE_TIMEOUT": "-1s"}, want: []string{"HANDSHAKE_TIMEOUT"}},
		{env: map[string]string{"PING_INTERVAL": "-5s"}, want: []string{"PING_INTERVAL"}},
		{env: map[string]string{"CLOSE_TIMEOUT": "soon"}, want: []string{"CLOSE_TIMEOUT"}},
		{env: map[string]string{"ENABLE_COMPRESSION": "on"}, want: []string{"ENABLE_COMPRESSION"}},
		{env: map[string]string{"COMPRESS_THRESHOLD": "0"}, want: []string{"COMPRESS_THRESHOLD"}},
		{env: map[string]string{"EVENT_LOOPS": "65"}, want: []string{"EVENT_LOOPS"}},
		{env: map[string]string{"MULTICORE": "2"}, want: []string{"MULTICORE"}},
		{env: map[string]string{"LOAD_BALANCING": "random"}, want: []string{"LOAD_BALANCING", "random"}},
		{env: map[string]string{"REUSE_PORT": "maybe"}, want: []string{"REUSE_PORT"}},
		{env: map[string]string{"READ_BUFFER_CAP": "512"}, want: []string{"READ_BUFFER_CAP"}},
		{env: map[string]string{"WRITE_BUFFER_CAP": "big"}, want: []string{"WRITE_BUFFER_CAP"}},
		{env: map[string]string{"ENABLE_METRICS": "nope"}, want: []string{"ENABLE_METRICS"}},
		{env: map[string]string{"ENABLE_PPROF": "2"}, want: []string{"ENABLE_PPROF"}},
		{env: map[string]string{"SHUTDOWN_TIMEOUT": "forever"}, want: []string{"SHUTDOWN_TIMEOUT"}},
		{env: map[string]string{"LOG_LEVEL": "verbose"}, want: []string{"LOG_LEVEL"}},
		{args: []string{"-port", "abc"}, want: []string{"-port"}},
		{args: []string{"-idle-timeout=never"}, want: []string{"-idle-timeout"}},
		{args: []string{"-ssl=maybe"}, want: []string{"-ssl"}},
		{args: []string{"-no-such-flag"}, want: []string{"no-such-flag"}},
		{args: []string{"extra"}, want: []string{"unexpected arguments", "extra"}},
		// Combinations.
		{env: map[string]string{"SSL_ENABLED": "true"}, want: []string{"SSL_ENABLED", "SSL_CERT_PATH"}},
		{env: map[string]string{"SSL_ENABLED": "true", "SSL_CERT_PATH": "c.pem"}, want: []string{"SSL_KEY_PATH"}},
		{args: []string{"-ssl"}, want: []string{"SSL_CERT_PATH"}},
		{env: map[string]string{"PING_INTERVAL": "60s"}, want: []string{"PING_INTERVAL", "IDLE_TIMEOUT"}},
		{env: map[string]string{"PING_INTERVAL": "30s", "IDLE_TIMEOUT": "20s"}, want: []string{"PING_INTERVAL", "IDLE_TIMEOUT"}},
		{env: map[string]string{"MAX_FRAME_SIZE": "2048", "MAX_MESSAGE_SIZE": "1024"}, want: []string{"MAX_MESSAGE_SIZE", "MAX_FRAME_SIZE"}},
		{env: map[string]string{"ECHO_PATH": "/ws"}, want: []string{"ECHO_PATH", "WS_PATH"}},
		{env: map[string]string{"WS_PORT": "9090"}, want: []string{"METRICS_PORT", "WS_PORT"}},
	}
	for _, tc := range cases {
		name := strings.Join(tc.args, " ")
		for k, v := range tc.env {
			name += " " + k + "=" + v
		}
		t.Run(strings.TrimSpace(name), func(t *testing.T) {
			o, err := loadConfig(tc.args, envOf(tc.env), io.Discard)
			if err == nil {
				t.Fatalf("no error; options %+v", *o)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadConfigHelp(t *testing.T) {
	var usage bytes.Buffer
	_, err := loadConfig([]string{"-h"}, envOf(nil), &usage)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"-port", "env WS_PORT", `default "3001"`, "-ssl", "env SSL_ENABLED", "-idle-timeout"} {
		if !strings.Contains(usage.String(), want) {
			t.Errorf("usage does not mention %q:\n%s", want, usage.String())
		}
	}
}
