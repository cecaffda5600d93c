package api

import "github.com/gin-gonic/gin"

// registerDocs serves the OpenAPI document and the embedded Swagger UI and
// Redoc pages.
func (s *Server) registerDocs(r gin.IRouter) {}
