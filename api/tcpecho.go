package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/tcpecho"
)

// TCPEcho lists the clients of the TCP echo service; *tcpecho.Server
// implements it. It must be safe for concurrent use.
type TCPEcho interface {
	Clients() []tcpecho.Client
}

var _ TCPEcho = (*tcpecho.Server)(nil)

// registerTCPEcho adds GET /tcpecho/clients, behind the monitor's read
// scope (the same authentication as the monitor's read routes).
func (s *Server) registerTCPEcho(r gin.IRouter) {
	r.GET("/tcpecho/clients", s.requireAuth(s.deps.MonitorReadScope), s.strictQuery, s.tcpechoClients)
}

// tcpechoClients lists the TCP echo clients.
//
//	@Summary		TCP echo clients and their RTT
//	@Description	The clients connected to the TCP echo listeners (TCPECHO_LISTEN, TCPECHO_TLS_LISTEN), by connection ID, then the recently disconnected ones (state "gone", with the reason), most recent last. Each carries two RTT figures that are never mixed: the application RTT (last_rtt, rtt_*: probe byte handed to the kernel → the echo's kernel receive timestamp) and the kernel's own estimate from TCP_INFO (kernel.rtt, kernel.rttvar, kernel.min_rtt, kernel.retransmits). Milliseconds; null before the first echo. See docs/TCPECHO.md.
//	@Tags			tcpecho
//	@Produce		json
//	@Param			state	query		string	false	"only clients in this state"	Enums(connected, gone)
//	@Success		200		{array}		tcpecho.Client
//	@Failure		400		{object}	errorBody	"invalid state"
//	@Failure		401		{object}	errorBody
//	@Failure		403		{object}	errorBody	"insufficient scope"
//	@Security		BearerAuth
//	@Router			/tcpecho/clients [get]
func (s *Server) tcpechoClients(c *gin.Context) {
	state := c.Query("state")
	if state != "" && state != "connected" && state != "gone" {
		s.fail(c, newError(http.StatusBadRequest, CodeInvalidParameter, "state: want connected or gone", nil))
		return
	}
	all := s.deps.TCPEcho.Clients()
	out := make([]tcpecho.Client, 0, len(all))
	for _, cl := range all {
		if state == "" || cl.State == state {
			out = append(out, cl)
		}
	}
	c.JSON(http.StatusOK, out)
}
