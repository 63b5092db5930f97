package main

import (
	"net"
	"net/http"
	"strconv"
	"time"

	json "github.com/goccy/go-json"

	"github.com/bellhop/bellhop/cmd/bellhop/web"
	"github.com/bellhop/bellhop/dispatch/auth"
)

// mountBoard serves the operations board at /board/ and the JavaScript
// client at /client/ on the admin server. /board/config.json tells the
// page where the hotel endpoint is; /board/dev-token mints a token for a
// chosen role only with DEV_LOGIN (and JWT_SECRET): a development aid.
func mountBoard(mux *http.ServeMux, a *app) {
	mux.Handle("GET /board/", http.StripPrefix("/board/", http.FileServerFS(web.Board())))
	mux.Handle("GET /client/", http.StripPrefix("/client/", http.FileServerFS(web.Client())))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/board/", http.StatusFound)
	})
	mux.HandleFunc("GET /board/config.json", func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		scheme := "ws"
		if a.certs != nil {
			scheme = "wss"
		}
		port := strconv.Itoa(a.srv.Addr().(*net.TCPAddr).Port)
		writeJSON(w, http.StatusOK, map[string]any{
			"ws":       scheme + "://" + net.JoinHostPort(host, port) + a.opts.path,
			"devLogin": a.devLoginEnabled(),
		})
	})
	mux.HandleFunc("POST /board/dev-token", func(w http.ResponseWriter, r *http.Request) {
		if !a.devLoginEnabled() {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "development login is off (DEV_LOGIN)"})
			return
		}
		role, err := auth.ParseRole(r.FormValue("role"))
		sub := r.FormValue("sub")
		if err != nil || sub == "" || len(sub) > 64 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "role and sub required"})
			return
		}
		c := auth.Claims{Subject: sub, Role: role, Property: a.opts.devProperty, Expires: time.Now().Add(8 * time.Hour)}
		if role == auth.Guest {
			c.Room = r.FormValue("room")
		}
		signer, err := auth.NewSigner(auth.SecretKeyID, []byte(a.opts.jwtSecret))
		if err == nil {
			var tok string
			if tok, err = signer.Sign(c); err == nil {
				a.log.Info("development token minted", "sub", sub, "role", role.String())
				writeJSON(w, http.StatusOK, map[string]string{"token": tok})
				return
			}
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	})
}

// devLoginEnabled reports whether /board/dev-token may mint tokens.
func (a *app) devLoginEnabled() bool {
	return a.opts.devLogin && a.opts.jwtSecret != "" && a.svc != nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
