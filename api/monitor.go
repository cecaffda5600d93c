package api

import "github.com/gin-gonic/gin"

// registerMonitor adds the Ping903-compatible monitor routes.
func (s *Server) registerMonitor(r gin.IRouter) {}
