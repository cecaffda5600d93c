package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/web"
)

// The dashboard: an overview at /dashboard/, one page per host at
// /dashboard/host/{name}, their static files under /dashboard/static/, and
// the JSON and event-stream endpoints the pages read under
// /dashboard/api/. Pages and files are public (they hold no data); the data
// endpoints follow the archive's read setting (Deps.ArchiveReadPublic).
const (
	dashPath       = "/dashboard/"
	dashStaticPath = "/dashboard/static/"
	dashAPIPath    = "/dashboard/api/"
)

// dashCSP is the Content-Security-Policy of the dashboard's pages and files:
// scripts, styles and connections from this origin only, no inline code, no
// eval, no frames, no plugins.
const dashCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// dashAsset is one embedded file as served: its bytes, a gzip copy when
// that is smaller, its media type and a strong ETag.
type dashAsset struct {
	body, gz []byte
	ctype    string
	etag     string
}

// newDashAsset prepares one file: media type, ETag and gzip copy.
func newDashAsset(name string, b []byte) *dashAsset {
	sum := sha256.Sum256(b)
	a := &dashAsset{body: b, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
	a.ctype = mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) { // not left to the system's mime table
	case ".js":
		a.ctype = "text/javascript; charset=utf-8"
	case ".css":
		a.ctype = "text/css; charset=utf-8"
	case ".html":
		a.ctype = "text/html; charset=utf-8"
	case ".svg":
		a.ctype = "image/svg+xml"
	case "", ".LICENSE":
		a.ctype = "text/plain; charset=utf-8"
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	if gz.Len() < len(b) {
		a.gz = gz.Bytes()
	}
	return a
}

// dashFileRef matches a page's reference to one of its files.
var dashFileRef = regexp.MustCompile(`static/([A-Za-z0-9_./-]+\.(?:js|css|svg))"`)

// loadDashAssets reads every embedded dashboard file once, at New. In the
// pages, each file's URL gets its content's version (?v=…), so the files
// can be cached for good and a page load costs no revalidation; the
// pages' <meta name="pingapi-auth"> says whether the data need a token
// (authMode), which saves the page a round trip.
func loadDashAssets(authMode string) (map[string]*dashAsset, error) {
	assets := map[string]*dashAsset{}
	fsys := web.Static()
	var pages []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if path.Ext(p) == ".html" {
			pages = append(pages, p)
		}
		assets[p] = newDashAsset(p, b)
		return nil
	})
	for _, p := range pages {
		b := dashFileRef.ReplaceAllFunc(assets[p].body, func(ref []byte) []byte {
			name := string(dashFileRef.FindSubmatch(ref)[1])
			a := assets[name]
			if a == nil {
				return ref
			}
			return []byte("static/" + name + "?v=" + strings.Trim(a.etag, `"`) + `"`)
		})
		b = bytes.Replace(b, []byte(`<meta name="pingapi-auth" content="">`), []byte(`<meta name="pingapi-auth" content="`+authMode+`">`), 1)
		assets[p] = newDashAsset(p, b)
	}
	return assets, err
}

// registerDashboard adds the dashboard's pages, files and data routes.
func (s *Server) registerDashboard(r gin.IRouter) {
	authMode := "token"
	if s.deps.ArchiveReadPublic {
		authMode = "public"
	}
	assets, err := loadDashAssets(authMode)
	if err != nil { // cannot happen: the files are embedded
		s.log.Error("dashboard assets", "err", err)
		return
	}
	s.dash = newDashboard(s)
	r.GET("/dashboard", dashRedirect)
	r.GET(dashPath, s.dashOverviewPage(assets["index.html"]))
	r.GET(dashPath+"host/:name", s.dashHostPage(assets["host.html"]))
	r.GET(dashPath+"client/:name", s.dashClientPage(assets["host.html"]))
	r.GET(dashStaticPath+"*file", func(c *gin.Context) {
		a := assets[strings.TrimPrefix(c.Param("file"), "/")]
		if a == nil || strings.HasSuffix(c.Param("file"), ".html") {
			s.noRoute(c)
			return
		}
		serveDashAsset(c, a)
	})
	read := s.dashAuth()
	q := s.strictQuery
	r.GET(dashAPIPath+"config", q, s.dashConfig)
	r.GET(dashAPIPath+"hosts", read, q, s.dashHosts)
	r.GET(dashAPIPath+"heatmap", read, q, s.dashHeatmap)
	r.GET(dashAPIPath+"host/:name/series", read, q, s.dashSeries)
	r.GET(dashAPIPath+"client/:name/series", read, q, s.dashClientSeries)
	r.GET(dashAPIPath+"events", read, q, s.dashEvents)
}

// dashHeaders are the security headers of every dashboard page and file.
func dashHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", dashCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

// serveDashAsset writes a, compressed when the client accepts gzip, and
// answers a matching If-None-Match with 304. A file asked for with its
// current version (?v=, as the pages ask) is cached for a year; anything
// else is revalidated on each load.
func serveDashAsset(c *gin.Context, a *dashAsset) {
	dashHeaders(c)
	h := c.Writer.Header()
	h.Set("ETag", a.etag)
	if v := c.Query("v"); v != "" && v == strings.Trim(a.etag, `"`) {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("Vary", "Accept-Encoding")
	if inm := c.GetHeader("If-None-Match"); inm != "" && strings.Contains(inm, a.etag) {
		c.Status(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gz != nil && acceptsGzip(c.GetHeader("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	c.Data(http.StatusOK, a.ctype, body)
}

// acceptsGzip reports whether an Accept-Encoding value allows gzip (not
// refused with q=0).
func acceptsGzip(ae string) bool {
	for part := range strings.SplitSeq(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.TrimRight(strings.ReplaceAll(params, " ", ""), "0")
			return q != "q=" && q != "q=0."
		}
	}
	return false
}

// dashRedirect sends /dashboard to /dashboard/.
//
//	@Summary		Dashboard
//	@Description	Redirects to the dashboard's overview, /dashboard/.
//	@Tags			dashboard
//	@Success		301	{string}	string	"redirect to /dashboard/"
//	@Router			/dashboard [get]
func dashRedirect(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, dashPath) }

// dashOverviewPage serves the overview.
//
//	@Summary		Dashboard: overview of every monitored host
//	@Description	An HTML page (scripts and styles under /dashboard/static/, nothing from other origins) with a sortable, filterable table of the monitored hosts (status, last RTT median, loss, jitter, a 24 h sparkline) and a host × time heatmap. The page itself is public; it reads /dashboard/api/*, which follow the archive's read setting (ARCHIVE_READ): open when public, else a bearer token with archive:read or an archive key, which the page asks for.
//	@Tags			dashboard
//	@Produce		html
//	@Success		200	{string}	string	"HTML page"
//	@Router			/dashboard/ [get]
func (s *Server) dashOverviewPage(a *dashAsset) gin.HandlerFunc {
	return func(c *gin.Context) { serveDashAsset(c, a) }
}

// dashHostPage serves the page of one host; the page reads the name from
// its own URL.
//
//	@Summary		Dashboard: one host over time
//	@Description	An HTML page drawing the host's RTT distribution (p5–p95, p25–p75, median coloured by loss), loss, jitter and failures over 1 h to 1 y or a custom range (from, to in the query, Unix seconds), with live updates and an on-demand measurement. The page is the same for every name; unknown names show an empty chart.
//	@Tags			dashboard
//	@Produce		html
//	@Param			name	path		string	true	"host name as monitored (or as archived)"
//	@Param			from	query		int		false	"start of the range shown, Unix seconds"
//	@Param			to		query		int		false	"end of the range shown, Unix seconds"
//	@Success		200		{string}	string	"HTML page"
//	@Router			/dashboard/host/{name} [get]
func (s *Server) dashHostPage(a *dashAsset) gin.HandlerFunc {
	return func(c *gin.Context) { serveDashAsset(c, a) }
}

// dashClientPage serves the page of one TCP echo client: the host page,
// which reads from its URL that it shows a client.
//
//	@Summary		Dashboard: one TCP echo client over time
//	@Description	The host page's charts for a TCP echo client, from its archived windows (/dashboard/api/client/{name}/series): RTT distribution, median coloured by loss, loss, and the kernel's RTT estimate; no jitter (the archive keeps histograms) and no on-demand measurement. Unknown names show an empty chart.
//	@Tags			dashboard
//	@Produce		html
//	@Param			name	path		string	true	"the client's archive name: its announced name, or the address of a plain client"
//	@Param			from	query		int		false	"start of the range shown, Unix seconds"
//	@Param			to		query		int		false	"end of the range shown, Unix seconds"
//	@Success		200		{string}	string	"HTML page"
//	@Router			/dashboard/client/{name} [get]
func (s *Server) dashClientPage(a *dashAsset) gin.HandlerFunc {
	return func(c *gin.Context) { serveDashAsset(c, a) }
}

// dashConfigBody tells the page how to read the data endpoints.
type dashConfigBody struct {
	// Auth is "public" (no token needed) or "token" (send Authorization:
	// Bearer with archive:read, or Token with an archive key; the page asks
	// for one and keeps it in session storage).
	Auth string `json:"auth" enums:"public,token" example:"public"`
	// History is false when no archive is configured: the page then shows
	// the monitor's current state only.
	History bool `json:"history" example:"true"`
	// ProbeInterval is the monitor's probe interval in seconds (0: no monitor).
	ProbeInterval float64 `json:"probe_interval" example:"60"`
}

// dashConfig tells the page whether it needs a token.
//
//	@Summary		Dashboard: how to read the data
//	@Description	Whether the data endpoints need a bearer token (they follow the archive's read setting), whether history is available, and the monitor's probe interval. Public.
//	@Tags			dashboard
//	@Produce		json
//	@Success		200	{object}	dashConfigBody
//	@Router			/dashboard/api/config [get]
func (s *Server) dashConfig(c *gin.Context) {
	body := dashConfigBody{Auth: "token", History: s.deps.DashboardArchive != nil}
	if s.deps.ArchiveReadPublic {
		body.Auth = "public"
	}
	if s.deps.Monitor != nil {
		body.ProbeInterval = s.deps.Monitor.Settings().ProbeInterval.Seconds()
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, body)
}

// dashAuth guards the data endpoints as the archive's own reads are
// guarded: open when archive reads are public, else a bearer token with
// archive:read (or archive:write), an archive key ("Token <key>"), or a
// client address allowed to write.
func (s *Server) dashAuth() gin.HandlerFunc { return s.esmondAuth(esmondReadAccess) }
