package peer

import (
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		withLoops bool
		want      Options
		wantErr   error // nil: any non-nil error is a failure
		anyErr    bool  // some error, from the flag package
	}{
		{name: "defaults", want: Options{Addr: DefaultAddr, Path: DefaultPath}},
		{name: "addr and path", args: []string{"-addr", "127.0.0.2:3401", "-path", "/ws"},
			want: Options{Addr: "127.0.0.2:3401", Path: "/ws"}},
		{name: "loops", args: []string{"-loops", "1"}, withLoops: true,
			want: Options{Addr: DefaultAddr, Path: DefaultPath, Loops: 1}},
		{name: "loops without the knob", args: []string{"-loops", "1"}, anyErr: true},
		{name: "negative loops", args: []string{"-loops", "-1"}, withLoops: true, wantErr: ErrUsage},
		{name: "addr without port", args: []string{"-addr", "127.0.0.1"}, wantErr: ErrUsage},
		{name: "relative path", args: []string{"-path", "echo"}, wantErr: ErrUsage},
		{name: "extra argument", args: []string{"x"}, wantErr: ErrUsage},
		{name: "help", args: []string{"-h"}, wantErr: flag.ErrHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("peer-test", tt.args, tt.withLoops, io.Discard)
			switch {
			case tt.anyErr:
				if err == nil {
					t.Fatal("no error")
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case got != tt.want:
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMux(t *testing.T) {
	h := Mux("/echo", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	tests := []struct {
		path string
		want int
	}{
		{"/echo", http.StatusTeapot},
		{"/echo/", http.StatusNotFound},
		{"/echo/x", http.StatusNotFound},
		{"/", http.StatusNotFound},
		{"/other", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run("path="+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d", rec.Code, tt.want)
			}
		})
	}
}
