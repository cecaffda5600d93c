package api

import (
	"context"
	"embed"
	"io/fs"
	"os"
	"path"
	"strings"

	"golang.org/x/net/webdav"
)

// swaggerUI is Swagger UI 4.15.5's dist files, as github.com/swaggo/files
// v1.0.1 ships them (see api/ui/README.md); index.html, index.css and
// swagger-initializer.js come from gin-swagger's templates. Embedded files
// stay in the binary's read-only data until they are served: swaggo/files
// copied all of them (8.6 MB) into memory at every start of the binary,
// whatever the subcommand.
//
//go:embed ui/swagger
var swaggerUI embed.FS

// swaggerHandler serves swaggerUI to gin-swagger, which wants a
// webdav.Handler.
func swaggerHandler() *webdav.Handler {
	sub, err := fs.Sub(swaggerUI, "ui/swagger")
	if err != nil { // cannot happen: the directory is embedded
		panic(err)
	}
	return &webdav.Handler{FileSystem: readOnlyDAV{sub}, LockSystem: webdav.NewMemLS()}
}

// readOnlyDAV is a webdav.FileSystem over an fs.FS that refuses changes.
type readOnlyDAV struct{ fsys fs.FS }

func davName(name string) string {
	n := strings.TrimPrefix(path.Clean("/"+name), "/")
	if n == "" {
		return "."
	}
	return n
}

func (d readOnlyDAV) Mkdir(context.Context, string, os.FileMode) error { return os.ErrPermission }
func (d readOnlyDAV) RemoveAll(context.Context, string) error          { return os.ErrPermission }
func (d readOnlyDAV) Rename(context.Context, string, string) error     { return os.ErrPermission }

func (d readOnlyDAV) Stat(_ context.Context, name string) (os.FileInfo, error) {
	return fs.Stat(d.fsys, davName(name))
}

func (d readOnlyDAV) OpenFile(_ context.Context, name string, flag int, _ os.FileMode) (webdav.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0 {
		return nil, os.ErrPermission
	}
	f, err := d.fsys.Open(davName(name))
	if err != nil {
		return nil, err
	}
	return davFile{f}, nil
}

// davFile is an embedded file as webdav.File: read and seek; no writes,
// no directory listing.
type davFile struct{ fs.File }

func (f davFile) Seek(off int64, whence int) (int64, error) {
	if s, ok := f.File.(interface {
		Seek(int64, int) (int64, error)
	}); ok {
		return s.Seek(off, whence)
	}
	return 0, os.ErrInvalid
}

func (f davFile) Readdir(int) ([]fs.FileInfo, error) { return nil, os.ErrInvalid }
func (f davFile) Write([]byte) (int, error)          { return 0, os.ErrPermission }
