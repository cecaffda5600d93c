// Package web holds the dashboard's browser sources (HTML, CSS, plain
// JavaScript) and its vendored chart library, embedded in the binary. The
// api package serves them under /dashboard/; see README.md for the files,
// the vendored versions and how to refresh them.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Static returns the dashboard's files, rooted at static/ (index.html,
// host.html, *.js, *.css, vendor/...). The FS is read-only and safe for
// concurrent use.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil { // cannot happen: "static" is a valid, embedded path
		panic(err)
	}
	return sub
}
