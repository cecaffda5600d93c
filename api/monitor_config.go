package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/monitor"
)

// monitorConfigBody is the running configuration (Ping903 /config).
// Intervals are in seconds.
type monitorConfigBody struct {
	ProbeInterval float64  `json:"probe-interval" example:"60"`
	PingCount     int      `json:"ping-count" example:"10"`
	PingInterval  float64  `json:"ping-interval" example:"1"`
	Tolerance     int      `json:"tolerance" example:"3"`
	DataLength    int      `json:"data-length" example:"56"`
	Listen        string   `json:"listen" example:"localhost:8080"`
	IPList        []string `json:"ip-list" example:"192.0.2.1"`           // immutable then mutable
	Immutable     []string `json:"immutable-ip-list" example:"192.0.2.1"` // from the configuration file
	Mutable       []string `json:"mutable-ip-list" example:"192.0.2.2"`   // changed through this API
}

func (s *Server) configBody() monitorConfigBody {
	m := s.deps.Monitor
	st := m.Settings()
	imm, mut := m.IPList()
	return monitorConfigBody{
		ProbeInterval: st.ProbeInterval.Seconds(), PingCount: st.PingCount,
		PingInterval: st.PingInterval.Seconds(), Tolerance: st.Tolerance,
		DataLength: st.DataLength, Listen: st.Listen,
		IPList:    append(append(make([]string, 0, len(imm)+len(mut)), imm...), mut...),
		Immutable: nonNil(imm), Mutable: nonNil(mut),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// monitorConfig returns the running configuration.
//
//	@Summary		Running configuration (Ping903 /config)
//	@Description	The settings and the ip-list, including changes queued for the next probe round.
//	@Tags			monitor
//	@Produce		json
//	@Success		200	{object}	monitorConfigBody
//	@Failure		401	{object}	errorBody
//	@Failure		403	{object}	errorBody	"insufficient scope"
//	@Security		BearerAuth
//	@Security		MonitorBasic
//	@Router			/config [get]
func (s *Server) monitorConfig(c *gin.Context) { c.JSON(http.StatusOK, s.configBody()) }

// monitorConfigKeyword returns one setting.
//
//	@Summary		One setting (Ping903 /config/KEYWORD)
//	@Tags			monitor
//	@Produce		json
//	@Param			keyword	path		string	true	"setting"	Enums(probe-interval, ping-count, ping-interval, tolerance, data-length, listen, ip-list, immutable-ip-list, mutable-ip-list)
//	@Success		200		{object}	any		"the bare value"
//	@Failure		401		{object}	errorBody
//	@Failure		403		{object}	errorBody	"insufficient scope"
//	@Failure		404		{object}	monitorErrorBody
//	@Security		BearerAuth
//	@Security		MonitorBasic
//	@Router			/config/{keyword} [get]
func (s *Server) monitorConfigKeyword(c *gin.Context) {
	b := s.configBody()
	var v any
	switch c.Param("keyword") {
	case "probe-interval":
		v = b.ProbeInterval
	case "ping-count":
		v = b.PingCount
	case "ping-interval":
		v = b.PingInterval
	case "tolerance":
		v = b.Tolerance
	case "data-length":
		v = b.DataLength
	case "listen":
		v = b.Listen
	case "ip-list":
		v = b.IPList
	case "immutable-ip-list":
		v = b.Immutable
	case "mutable-ip-list":
		v = b.Mutable
	default:
		s.fail(c, newError(http.StatusNotFound, CodeNoSuchAttribute,
			"no such setting: "+clip(c.Param("keyword"), 40), nil))
		return
	}
	c.JSON(http.StatusOK, v)
}

// ipListBody is the object form of POST /config/ip-list.
type ipListBody struct {
	IPList []json.RawMessage `json:"ip-list" swaggertype:"array,string" example:"192.0.2.1,192.0.2.2"`
	Mode   string            `json:"mode" enums:"replace,append" example:"append"`
}

// ipListResult answers a successful change of the mutable list.
type ipListResult struct {
	Message string `json:"message" example:"queued: takes effect at the next probe round"`
	Mutable int    `json:"mutable" example:"2"` // size of the mutable list after the change
}

const queuedMessage = "queued: takes effect at the next probe round"

// monitorPostIPList adds names to, or replaces, the mutable list.
//
//	@Summary		Add to or replace the mutable ip-list (Ping903 POST /config/ip-list)
//	@Description	The body is an array of IPv4 addresses or hostnames, or an object {"ip-list": [...], "mode": "replace"|"append"} (mode defaults to append). Every element is checked first (hostnames are resolved); on the first bad one nothing changes and the error carries its 1-based index. Names already listed are skipped. The list is saved before the answer; probing follows at the next round.
//	@Tags			monitor
//	@Accept			json
//	@Produce		json
//	@Param			body	body		ipListBody	true	"an array of names, or this object"
//	@Success		200		{object}	ipListResult
//	@Failure		400		{object}	monitorErrorBody	"malformed body or element (index)"
//	@Failure		401		{object}	errorBody
//	@Failure		403		{object}	monitorErrorBody	"unresolvable_host or target_denied (index), or insufficient scope"
//	@Failure		413		{object}	monitorErrorBody	"body_too_large (over MONITOR_MAX_BODY), too_many_hosts (past MONITOR_MAX_HOSTS, or over 1,000 host names to resolve)"
//	@Failure		415		{object}	monitorErrorBody	"unsupported_media_type (not JSON)"
//	@Failure		500		{object}	monitorErrorBody	"the list could not be saved"
//	@Failure		502		{object}	monitorErrorBody	"resolve_failed (index): the DNS resolver failed"
//	@Failure		504		{object}	monitorErrorBody	"resolve_timeout (index): the DNS resolver was slow"
//	@Security		BearerAuth
//	@Security		MonitorBasic
//	@Router			/config/ip-list [post]
func (s *Server) monitorPostIPList(c *gin.Context) {
	if err := requireJSON(c.GetHeader("Content-Type")); err != nil {
		s.fail(c, err)
		return
	}
	if c.Request.ContentLength > s.deps.MonitorMaxBody {
		s.fail(c, newError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			"the body is larger than "+strconv.FormatInt(s.deps.MonitorMaxBody, 10)+" bytes (MONITOR_MAX_BODY)", nil))
		return
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, s.deps.MonitorMaxBody)
	req, err := decodeIPList(body, s.deps.Monitor.MaxHosts())
	if err != nil {
		s.fail(c, err)
		return
	}
	names, mode := req.names, req.mode
	if req.bad > 0 {
		// The index is the first bad element's: one of those before this
		// one may be bad too.
		if err := s.deps.Monitor.Check(c.Request.Context(), names); err != nil {
			s.postIPListFail(c, err)
			return
		}
		e := newError(http.StatusBadRequest, CodeInvalidTarget, "element is not a string", nil)
		e.Index = req.bad
		s.fail(c, e)
		return
	}
	err = s.deps.Monitor.Update(c.Request.Context(), names, mode)
	if err != nil {
		s.postIPListFail(c, err)
		return
	}
	_, mut := s.deps.Monitor.ListLen()
	c.JSON(http.StatusOK, ipListResult{Message: queuedMessage, Mutable: mut})
}

// postIPListFail answers a failed POST /config/ip-list, with the 1-based
// index of the element at fault when there is one.
func (s *Server) postIPListFail(c *gin.Context, err error) {
	var ie *monitor.IndexError
	if errors.As(err, &ie) {
		e := listError(c.Request.Context(), ie.Name, ie.Err)
		e.Message = "element " + clip(ie.Name, 100) + ": " + e.Message
		e.Index = ie.Index
		s.fail(c, e)
		return
	}
	s.fail(c, listError(c.Request.Context(), "", err))
}

// monitorPutIP adds one name to the mutable list.
//
//	@Summary		Add a host to the mutable ip-list (Ping903 PUT /config/ip-list/IP)
//	@Description	A hostname must resolve to an IPv4 address. Saved before the answer; probing follows at the next round.
//	@Tags			monitor
//	@Produce		json
//	@Param			ip	path		string	true	"IP address or hostname"
//	@Success		201	{object}	ipListResult
//	@Failure		400	{object}	monitorErrorBody	"invalid_target: not an IP address nor a hostname (a control character, a zone, ...)"
//	@Failure		401	{object}	errorBody
//	@Failure		403	{object}	monitorErrorBody	"already_monitored, unresolvable_host, target_denied (or insufficient scope)"
//	@Failure		413	{object}	monitorErrorBody	"too_many_hosts: the list holds MONITOR_MAX_HOSTS"
//	@Failure		500	{object}	monitorErrorBody	"the list could not be saved"
//	@Failure		502	{object}	monitorErrorBody	"resolve_failed: the DNS resolver failed"
//	@Failure		504	{object}	monitorErrorBody	"resolve_timeout: the DNS resolver was slow"
//	@Security		BearerAuth
//	@Security		MonitorBasic
//	@Router			/config/ip-list/{ip} [put]
func (s *Server) monitorPutIP(c *gin.Context) {
	if err := s.deps.Monitor.Add(c.Request.Context(), c.Param("ip")); err != nil {
		s.fail(c, listError(c.Request.Context(), c.Param("ip"), err))
		return
	}
	_, mut := s.deps.Monitor.ListLen()
	c.JSON(http.StatusCreated, ipListResult{Message: queuedMessage, Mutable: mut})
}

// monitorDeleteIP removes one name from the mutable list.
//
//	@Summary		Remove a host from the mutable ip-list (Ping903 DELETE /config/ip-list/IP)
//	@Tags			monitor
//	@Produce		json
//	@Param			ip	path		string	true	"IP address or hostname, as listed"
//	@Success		200	{object}	ipListResult
//	@Failure		401	{object}	errorBody
//	@Failure		403	{object}	errorBody	"insufficient scope"
//	@Failure		404	{object}	monitorErrorBody	"not in the mutable list, or immutable"
//	@Failure		500	{object}	monitorErrorBody	"the list could not be saved"
//	@Security		BearerAuth
//	@Security		MonitorBasic
//	@Router			/config/ip-list/{ip} [delete]
func (s *Server) monitorDeleteIP(c *gin.Context) {
	if err := s.deps.Monitor.Delete(c.Param("ip")); err != nil {
		s.fail(c, listError(c.Request.Context(), c.Param("ip"), err))
		return
	}
	_, mut := s.deps.Monitor.ListLen()
	c.JSON(http.StatusOK, ipListResult{Message: queuedMessage, Mutable: mut})
}
