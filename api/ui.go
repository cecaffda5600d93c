package api

import (
	"bytes"
	"embed"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/api/docs"
	ginSwagger "github.com/swaggo/gin-swagger"
)

// uiFiles are the Redoc page and its vendored bundle (see api/ui/README.md).
// Everything the documentation pages load is served from here or from
// swaggerUI (ui_swagger.go): nothing comes from a CDN, so the pages work
// offline.
//
//go:embed ui/redoc.html ui/redoc.standalone.js
var uiFiles embed.FS

// Paths of the documentation routes. The pages refer to each other with
// relative URLs, so they also work behind a proxy under a prefix.
const (
	openAPIPath = "/openapi.json"
	swaggerPath = "/docs"
	redocPath   = "/redoc"
	redocJSPath = "/redoc/redoc.standalone.js"
)

// registerDocs serves the OpenAPI document and the embedded Swagger UI and
// Redoc pages. None of them needs a token.
func (s *Server) registerDocs(r gin.IRouter) {
	getAndHead(r, openAPIPath, openAPI)
	getAndHead(r, swaggerPath, swaggerRedirect)
	swagger := ginSwagger.CustomWrapHandler(&ginSwagger.Config{
		URL:                      "../openapi.json", // relative to /docs/index.html
		DocExpansion:             "list",
		Title:                    "pingapi: Swagger UI",
		DefaultModelsExpandDepth: 1,
		DeepLinking:              true,
	}, swaggerHandler())
	docsFiles := func(c *gin.Context) {
		name := strings.TrimPrefix(c.Param("any"), "/")
		switch {
		case name == "":
			swaggerRedirect(c)
		case !swaggerAssets[name]:
			// ginSwagger would answer a plain-text 404.
			s.fail(c, newError(http.StatusNotFound, CodeNotFound, "no such file under /docs/: "+clip(name, 100), nil))
		default:
			swagger(c)
		}
	}
	js := redocBundle()
	redocJS := func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=86400")
		c.Data(http.StatusOK, "text/javascript; charset=utf-8", js)
	}
	getAndHead(r, swaggerPath+"/*any", docsFiles)
	getAndHead(r, redocPath, redoc)
	getAndHead(r, redocJSPath, redocJS)
}

// swaggerAssets are the files the Swagger UI handler serves under /docs/.
var swaggerAssets = map[string]bool{
	"index.html": true, "index.css": true, "swagger-initializer.js": true, "doc.json": true,
	"favicon-16x16.png": true, "favicon-32x32.png": true, "oauth2-redirect.html": true,
	"swagger-ui.css": true, "swagger-ui.css.map": true, "swagger-ui.js": true, "swagger-ui.js.map": true,
	"swagger-ui-bundle.js": true, "swagger-ui-bundle.js.map": true,
	"swagger-ui-standalone-preset.js": true, "swagger-ui-standalone-preset.js.map": true,
}

// getAndHead serves h for GET and HEAD on path. HEAD runs h as a GET (some
// handlers refuse other methods); net/http sends the headers and drops the
// body, since the request it answers is still the HEAD. Only for read-only
// routes without side effects: monitoring probes send HEAD.
func getAndHead(r gin.IRouter, path string, h gin.HandlerFunc) {
	r.GET(path, h)
	r.HEAD(path, func(c *gin.Context) {
		c.Request = c.Request.Clone(c.Request.Context())
		c.Request.Method = http.MethodGet
		h(c)
	})
}

// redocLogoURL is the one external resource of the Redoc 2.5.4 bundle: the
// logo of its "API docs by Redocly" attribution, fetched from a CDN. The
// bundle is vendored unmodified (so its checksum matches npm); the URL is
// blanked when it is served, and the attribution shows as text only.
const redocLogoURL = `"https://cdn.redoc.ly/redoc/logo-mini.svg"`

// redocBundle returns the Redoc bundle as served: without its CDN logo.
func redocBundle() []byte {
	js, err := uiFiles.ReadFile("ui/redoc.standalone.js")
	if err != nil { // cannot happen: the file is embedded
		return nil
	}
	return bytes.ReplaceAll(js, []byte(redocLogoURL), []byte(`""`))
}

// openAPI serves the OpenAPI document.
//
//	@Summary		OpenAPI document
//	@Description	This API's OpenAPI (Swagger 2.0) document, generated from the source by swag. Unauthenticated.
//	@Tags			docs
//	@Produce		json
//	@Success		200	{object}	object	"the OpenAPI document"
//	@Router			/openapi.json [get]
//	@Router			/openapi.json [head]
func openAPI(c *gin.Context) {
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "application/json; charset=utf-8", []byte(docs.JSON()))
}

// swaggerRedirect sends /docs and /docs/ to the Swagger UI page.
//
//	@Summary		Swagger UI
//	@Description	Redirects to the interactive Swagger UI (/docs/index.html), served from embedded assets: it works offline. Unauthenticated.
//	@Tags			docs
//	@Produce		html
//	@Success		301	{string}	string	"redirect to /docs/index.html"
//	@Router			/docs [get]
//	@Router			/docs [head]
func swaggerRedirect(c *gin.Context) {
	c.Redirect(http.StatusMovedPermanently, swaggerPath+"/index.html")
}

// redoc serves the Redoc page.
//
//	@Summary		Redoc
//	@Description	The API reference rendered by Redoc, from an embedded bundle: it works offline. Unauthenticated.
//	@Tags			docs
//	@Produce		html
//	@Success		200	{string}	string	"HTML page"
//	@Router			/redoc [get]
//	@Router			/redoc [head]
func redoc(c *gin.Context) {
	page, err := uiFiles.ReadFile("ui/redoc.html")
	if err != nil { // cannot happen: the file is embedded
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", page)
}
