package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/monitor"
	"github.com/pingapi/pingapi/pkg/wire"
)

// Limits of the monitor routes.
const (
	maxSelectNames = 10000  // names in one select=
	maxMatchNames  = 256    // names in one /match (each may be resolved)
	maxHostLimit   = 100000 // largest limit= of GET /host
	hostFlushEvery = 1024   // records between flushes of a streamed GET /host
)

// registerMonitor adds the Ping903-compatible monitor routes (Ping903's
// sections 6 and 7, same paths and member names, plus jitter). Reads
// require MonitorReadScope, changes MonitorWriteScope (when set); see
// monitorAuth for the open networks and HTTP Basic.
func (s *Server) registerMonitor(r gin.IRouter) {
	read := r.Group("", s.monitorAuth(s.deps.MonitorReadScope, true), s.monitorRequest)
	write := r.Group("", s.monitorAuth(s.deps.MonitorWriteScope, false), s.monitorRequest)
	read.GET("/id", s.monitorID)
	read.GET("/id/:attr", s.monitorIDAttr)
	read.GET("/host", s.monitorHosts)
	read.GET("/host/:name", s.monitorHost)
	read.GET("/match", s.monitorMatchSelect)
	read.GET("/match/:host", s.monitorMatch)
	read.GET("/config", s.monitorConfig)
	read.GET("/config/:keyword", s.monitorConfigKeyword)
	write.POST("/config/ip-list", s.monitorPostIPList)
	write.PUT("/config/ip-list/:ip", s.monitorPutIP)
	write.DELETE("/config/ip-list/:ip", s.monitorDeleteIP)
}

// monitorRequest runs after authentication on every monitor route: errors
// from here on carry Ping903's members (see abortWithError), and the query
// string goes through the one strict parser /pingapi uses, so that a
// malformed pair is a 400 rather than silently dropped.
func (s *Server) monitorRequest(c *gin.Context) {
	c.Set(ping903Key, true)
	s.strictQuery(c)
}

// monitorID identifies the running instance.
//
//	@Summary		Identify the running instance (Ping903 /id)
//	@Tags			monitor
//	@Produce		json
//	@Success		200	{object}	wire.ID
//	@Failure		401	{object}	errorBody
//	@Failure		403	{object}	errorBody
//	@Security		BearerAuth
//	@Security		MonitorBasic
//	@Router			/id [get]
func (s *Server) monitorID(c *gin.Context) { c.JSON(http.StatusOK, s.deps.Monitor.ID()) }

// monitorIDAttr returns one attribute of /id.
//
//	@Summary		One attribute of /id: package, version or pid
//	@Tags			monitor
//	@Produce		json
//	@Param			attr	path		string	true	"attribute"	Enums(package, version, pid)
//	@Success		200		{object}	any		"the bare value: a string or a number"
//	@Failure		401		{object}	errorBody
//	@Failure		403		{object}	errorBody	"insufficient scope"
//	@Failure		404		{object}	monitorErrorBody
//	@Security		BearerAuth
//	@Security		MonitorBasic
//	@Router			/id/{attr} [get]
func (s *Server) monitorIDAttr(c *gin.Context) {
	id := s.deps.Monitor.ID()
	switch c.Param("attr") {
	case "package":
		c.JSON(http.StatusOK, id.Package)
	case "version":
		c.JSON(http.StatusOK, id.Version)
	case "pid":
		c.JSON(http.StatusOK, id.PID)
	default:
		s.fail(c, newError(http.StatusNotFound, CodeNoSuchAttribute,
			"no such attribute: "+clip(c.Param("attr"), 40)+"; want package, version or pid", nil))
	}
}

// monitorHosts streams every host record, or pages through them.
//
//	@Summary		Statistics of all monitored hosts (Ping903 /host)
//	@Description	Without select, returns every host record in list order (the immutable list, then the mutable one). The array is streamed with periodic flushes, never built in memory. limit and offset page through it; X-Total-Count gives the number of hosts and, while more remain, a Link header with rel="next" the next page. With select, returns the named hosts, as /host/{name} does.
//	@Tags			monitor
//	@Produce		json
//	@Param			select	query		string	false	"comma-separated names to return instead of all"
//	@Param			attr	query		string	false	"comma-separated record members to return"
//	@Param			limit	query		int		false	"page size (1..100000); default: all"
//	@Param			offset	query		int		false	"records to skip"	default(0)
//	@Success		200		{array}		wire.Record
//	@Header			200		{integer}	X-Total-Count	"number of monitored hosts"
//	@Header			200		{string}	Link			"the next page: </host?offset=N&limit=M>; rel=\"next\""
//	@Failure		400		{object}	monitorErrorBody
//	@Failure		401		{object}	errorBody
//	@Failure		403		{object}	errorBody	"insufficient scope"
//	@Failure		404		{object}	monitorErrorBody	"select named no monitored host"
//	@Security		BearerAuth
//	@Security		MonitorBasic
//	@Router			/host [get]
func (s *Server) monitorHosts(c *gin.Context) {
	if c.Query("select") != "" {
		s.monitorHost(c)
		return
	}
	attrs, ok := s.monitorAttrs(c)
	if !ok {
		return
	}
	offset, ok1 := s.monitorInt(c, "offset", 0, 0, 1<<31)
	limit, ok2 := s.monitorInt(c, "limit", 0, 1, maxHostLimit)
	if !ok1 || !ok2 {
		return
	}
	m := s.deps.Monitor
	total := m.Len()
	h := c.Writer.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Total-Count", strconv.Itoa(total))
	if limit > 0 && offset+limit < total {
		q := c.Request.URL.Query()
		q.Set("offset", strconv.Itoa(offset+limit))
		q.Set("limit", strconv.Itoa(limit))
		h.Set("Link", "</host?"+q.Encode()+`>; rel="next"`)
	}
	c.Status(http.StatusOK)
	buf := append(make([]byte, 0, 64<<10), '[')
	n := 0
	err := m.Records(offset, limit, func(recs []wire.Record) error {
		for i := range recs {
			if n > 0 {
				buf = append(buf, ',')
			}
			buf = wire.AppendRecord(buf, &recs[i], attrs)
			n++
			if n%hostFlushEvery == 0 {
				if _, err := c.Writer.Write(buf); err != nil {
					return err
				}
				c.Writer.Flush()
				buf = buf[:0]
			}
		}
		return c.Request.Context().Err()
	})
	if err != nil {
		s.log.Debug("GET /host: client gone", "err", err)
		return
	}
	buf = append(buf, ']', '\n')
	c.Writer.Write(buf)
}

// monitorHost returns the records of the named hosts.
//
//	@Summary		Statistics of one or more hosts (Ping903 /host/NAME)
//	@Description	NAME and the names in select are looked up exactly as they were given in the ip-list (use /match to find them by address). The array holds the monitored ones in request order; unmonitored names are left out, and when none is monitored the answer is 404.
//	@Tags			monitor
//	@Produce		json
//	@Param			name	path		string	true	"IP address or hostname as given in the ip-list"
//	@Param			select	query		string	false	"further comma-separated names"
//	@Param			attr	query		string	false	"comma-separated record members to return"
//	@Success		200		{array}		wire.Record
//	@Failure		400		{object}	monitorErrorBody
//	@Failure		401		{object}	errorBody
//	@Failure		403		{object}	errorBody	"insufficient scope"
//	@Failure		404		{object}	monitorErrorBody	"not monitored"
//	@Security		BearerAuth
//	@Security		MonitorBasic
//	@Router			/host/{name} [get]
func (s *Server) monitorHost(c *gin.Context) {
	attrs, ok := s.monitorAttrs(c)
	if !ok {
		return
	}
	names, ok := s.monitorNames(c, c.Param("name"))
	if !ok {
		return
	}
	buf := []byte{'['}
	found := 0
	for _, n := range names {
		r, ok := s.deps.Monitor.Lookup(n)
		if !ok {
			continue
		}
		if found > 0 {
			buf = append(buf, ',')
		}
		buf = wire.AppendRecord(buf, &r, attrs)
		found++
	}
	if found == 0 {
		s.fail(c, newError(http.StatusNotFound, CodeNotMonitored,
			"not monitored: "+clip(strings.Join(names, ","), 100), nil))
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", append(buf, ']', '\n'))
}

// matchResult is one element of the /match answer.
type matchResult struct {
	Name  string   `json:"name" example:"www.example.org"`
	Hosts []string `json:"hosts" example:"192.0.2.1"`
	Error string   `json:"error,omitempty" example:"host name does not resolve"`
}

// monitorMatch returns the monitored names of hosts given by address or
// name.
//
//	@Summary		Monitored names of a host (Ping903 /match)
//	@Description	Each name is resolved; the monitored hosts whose address is one of its IPv4 addresses (or that are monitored under exactly that name) are returned. /match/HOST?select=LIST is /match?select=HOST,LIST.
//	@Tags			monitor
//	@Produce		json
//	@Param			host	path		string	true	"IP address or hostname"
//	@Param			select	query		string	false	"further comma-separated names"
//	@Success		200		{array}		matchResult
//	@Failure		400		{object}	monitorErrorBody
//	@Failure		401		{object}	errorBody
//	@Failure		403		{object}	errorBody	"insufficient scope"
//	@Security		BearerAuth
//	@Security		MonitorBasic
//	@Router			/match/{host} [get]
func (s *Server) monitorMatch(c *gin.Context) {
	names, ok := s.monitorNames(c, c.Param("host"))
	if !ok {
		return
	}
	out := make([]matchResult, 0, len(names))
	if len(names) > maxMatchNames {
		s.fail(c, newError(http.StatusBadRequest, CodeInvalidParameter,
			"too many names to match: at most "+strconv.Itoa(maxMatchNames), nil))
		return
	}
	for _, n := range names {
		hosts, err := s.deps.Monitor.Match(c.Request.Context(), n)
		r := matchResult{Name: n, Hosts: hosts}
		if r.Hosts == nil {
			r.Hosts = []string{}
		}
		if err != nil {
			r.Error = "cannot resolve " + clip(n, 100)
			if errors.Is(err, monitor.ErrInvalid) {
				r.Error = "not an IP address nor a hostname"
			}
		}
		out = append(out, r)
	}
	c.JSON(http.StatusOK, out)
}

// monitorMatchSelect is /match with the names in select only.
//
//	@Summary		Monitored names of hosts (Ping903 /match?select=)
//	@Description	As /match/{host}, for the comma-separated names of select.
//	@Tags			monitor
//	@Produce		json
//	@Param			select	query		string	true	"comma-separated IP addresses or hostnames"
//	@Success		200		{array}		matchResult
//	@Failure		400		{object}	monitorErrorBody
//	@Failure		401		{object}	errorBody
//	@Failure		403		{object}	errorBody	"insufficient scope"
//	@Security		BearerAuth
//	@Security		MonitorBasic
//	@Router			/match [get]
func (s *Server) monitorMatchSelect(c *gin.Context) { s.monitorMatch(c) }

// monitorNames is the path name (if any) followed by the select list.
func (s *Server) monitorNames(c *gin.Context, first string) ([]string, bool) {
	var names []string
	if first != "" {
		names = append(names, first)
	}
	if sel := c.Query("select"); sel != "" {
		for n := range strings.SplitSeq(sel, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		s.fail(c, newError(http.StatusBadRequest, CodeInvalidParameter, "no host given: use a path name or select=", nil))
		return nil, false
	}
	if len(names) > maxSelectNames {
		s.fail(c, newError(http.StatusBadRequest, CodeInvalidParameter,
			"too many names: at most "+strconv.Itoa(maxSelectNames), nil))
		return nil, false
	}
	return names, true
}

func (s *Server) monitorAttrs(c *gin.Context) (wire.AttrSet, bool) {
	set, bad := wire.ParseAttrs(c.Query("attr"))
	if bad != "" {
		s.fail(c, newError(http.StatusBadRequest, CodeInvalidParameter,
			"unknown attr "+clip(bad, 40)+"; want "+strings.Join(wire.AttrNames(), ","), nil))
		return 0, false
	}
	return set, true
}

// monitorInt parses the optional integer query parameter name within
// [lo, hi]; absent or empty gives def. It answers 400 itself and returns
// false on anything else.
func (s *Server) monitorInt(c *gin.Context, name string, def, lo, hi int) (int, bool) {
	v, ok := c.GetQuery(name)
	if !ok || v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		s.fail(c, newError(http.StatusBadRequest, CodeInvalidParameter,
			name+" must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi), nil))
		return 0, false
	}
	return n, true
}
