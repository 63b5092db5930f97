// Package web holds what the admin server serves to browsers: the
// operations board (a static page) and the JavaScript client it is built
// on, embedded in the binary.
package web

import (
	"embed"
	"io/fs"
)

//go:embed board client/bellhop.js client/bellhop.d.ts client/package.json
var files embed.FS

// Board is the operations board's files (index.html, board.js, board.css).
func Board() fs.FS { sub, _ := fs.Sub(files, "board"); return sub }

// Client is the JavaScript client (bellhop.js, package.json).
func Client() fs.FS { sub, _ := fs.Sub(files, "client"); return sub }
