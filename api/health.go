package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// healthBody is the answer of /healthz and a ready /readyz.
type healthBody struct {
	Status string            `json:"status" example:"ok"`
	Checks map[string]string `json:"checks,omitempty"`
}

// readyFailure is the 503 of /readyz: the error envelope plus the checks.
type readyFailure struct {
	Error  errorDetail       `json:"error"`
	Checks map[string]string `json:"checks"`
}

// healthz answers while the process serves HTTP.
//
//	@Summary		Liveness
//	@Description	200 while the process serves HTTP. Unauthenticated.
//	@Tags			operations
//	@Produce		json
//	@Success		200	{object}	healthBody
//	@Router			/healthz [get]
//	@Router			/healthz [head]
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, healthBody{Status: "ok"})
}

// readyz answers 200 when the ICMP engine has a socket and the signing keys
// are loaded, else 503 naming the parts that are not ready.
//
//	@Summary		Readiness
//	@Description	200 when the ICMP engine has an open socket (checks.probe) and the token signing keys are loaded (checks.auth); otherwise 503 not_ready with the envelope, a message naming what is not ready, and the same checks. Unauthenticated.
//	@Tags			operations
//	@Produce		json
//	@Success		200	{object}	healthBody
//	@Failure		503	{object}	readyFailure	"not_ready"
//	@Router			/readyz [get]
//	@Router			/readyz [head]
func (s *Server) readyz(c *gin.Context) {
	checks := map[string]string{"probe": "ok", "auth": "ok"}
	var missing []string
	if s.deps.Pinger == nil || !s.deps.Pinger.Ready() {
		checks["probe"] = "no ICMP socket open"
		missing = append(missing, "probe (no ICMP socket open)")
	}
	if s.deps.Verifier == nil || !s.deps.Verifier.Ready() {
		checks["auth"] = "signing keys not loaded"
		missing = append(missing, "auth (signing keys not loaded)")
	}
	if len(missing) > 0 {
		c.Header("Retry-After", "5")
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, readyFailure{
			Error:  errorDetail{Code: CodeNotReady, Message: "not ready: " + strings.Join(missing, "; ")},
			Checks: checks,
		})
		return
	}
	c.JSON(http.StatusOK, healthBody{Status: "ready", Checks: checks})
}
