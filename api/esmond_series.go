package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/archive"
)

// esmondEventType godoc
//
//	@Summary		One event type of a metadata record
//	@Description	A list of one element: the event type with its base URI and summaries. Readable from any origin.
//	@Tags			esmond
//	@Produce		json
//	@Param			key		path		string	true	"metadata-key"
//	@Param			event	path		string	true	"event type, e.g. histogram-rtt"
//	@Success		200		{array}		esmondEventTypeJSON
//	@Failure		400		{object}	esmondErrorBody	"not an event type esmond knows"
//	@Failure		401		{object}	esmondErrorBody	"ARCHIVE_READ=token and no valid credentials"
//	@Failure		404		{object}	esmondErrorBody	"no such metadata, or the record has no such event type"
//	@Security		BearerAuth
//	@Security		ArchiveKey
//	@Router			/esmond/perfsonar/archive/{key}/{event} [get]
//	@Router			/esmond/perfsonar/archive/{key}/{event}/ [get]
func (s *Server) esmondEventType(c *gin.Context) {
	m, et, ok := s.esmondLoadEventType(c)
	if !ok {
		return
	}
	writeEsmondJSON(c, http.StatusOK, []esmondEventTypeJSON{encodeEventType(esmondArchiveOf(c), m.Key, et)})
}

// esmondLoadEventType returns the metadata record and event type of the
// path, or writes the error.
func (s *Server) esmondLoadEventType(c *gin.Context) (archive.Metadata, archive.EventType, bool) {
	name := c.Param("event")
	if _, known := archive.EventTypeOf(name); !known {
		s.fail(c, badRequest("unsupported event type \""+clip(name, 64)+"\""))
		return archive.Metadata{}, archive.EventType{}, false
	}
	m, ok := s.esmondLoad(c)
	if !ok {
		return m, archive.EventType{}, false
	}
	et, ok := m.EventType(name)
	if !ok {
		s.fail(c, esmondNotFound("metadata "+m.Key+" has no event type "+name))
		return m, et, false
	}
	return m, et, true
}

// esmondPostEventType godoc
//
//	@Summary		Not a data URI
//	@Description	esmond accepts and drops a POST here; pingapi refuses it so that no data is lost: post points to the event type's base URI, or PUT a bulk document to the metadata URI.
//	@Tags			esmond
//	@Param			key		path		string	true	"metadata-key"
//	@Param			event	path		string	true	"event type"
//	@Failure		400		{object}	esmondErrorBody	"always"
//	@Failure		401		{object}	esmondErrorBody	"no valid archive key or token"
//	@Security		ArchiveKey
//	@Security		BearerAuth
//	@Router			/esmond/perfsonar/archive/{key}/{event} [post]
//	@Router			/esmond/perfsonar/archive/{key}/{event}/ [post]
func (s *Server) esmondPostEventType(c *gin.Context) {
	a := esmondArchiveOf(c)
	s.fail(c, badRequest("post data points to "+esmondURI(a, clip(c.Param("key"), 40), clip(c.Param("event"), 64), "base")+
		", or PUT a bulk document to "+esmondURI(a, clip(c.Param("key"), 40))))
}

// esmondSeriesPath is a parsed data URI.
type esmondSeriesPath struct {
	SummaryType string // "base", "aggregation", "average" or "statistics"
	Window      int64
	HasWindow   bool
}

// parseSeriesPath reads the summary segments of a data URI.
func parseSeriesPath(c *gin.Context) (esmondSeriesPath, error) {
	seg := c.Param("summary")
	st, ok := archive.SummaryTypeOfURI(seg)
	if !ok {
		return esmondSeriesPath{}, badRequest("invalid summary type \"" + clip(seg, 32) + "\": want base, aggregations, averages or statistics")
	}
	p := esmondSeriesPath{SummaryType: st}
	if w := c.Param("window"); w != "" {
		n, err := parseSummaryWindow(w)
		if err != nil {
			return p, err
		}
		p.Window, p.HasWindow = n, true
	}
	return p, nil
}

// esmondSeries godoc
//
//	@Summary		Base data, a summary's data, or a summary type's windows
//	@Description	.../base: the points as written, [{"ts", "val"}] oldest first. .../{summary}/{window}: the summary computed by the server (aggregations, averages, statistics), each ts the start of its epoch-aligned window (window 0: one summary per base point). .../{summary} without a window lists that type's summaries. Integer values are JSON floats (100.0), a percentage is the ratio numerator/denominator. Time filters as in the search; limit/offset page the points (default 1500), with a Link header. Readable from any origin.
//	@Tags			esmond
//	@Produce		json
//	@Param			key			path		string	true	"metadata-key"
//	@Param			event		path		string	true	"event type"
//	@Param			summary		path		string	true	"base, aggregations, averages or statistics"
//	@Param			time		query		integer	false	"exactly this Unix second"
//	@Param			time-start	query		integer	false	"at or after (Unix seconds)"
//	@Param			time-end	query		integer	false	"at or before (Unix seconds)"
//	@Param			time-range	query		integer	false	"seconds: before now, after time-start, or before time-end"
//	@Param			limit		query		integer	false	"page size; 0 or absent: 1500"	default(1500)
//	@Param			offset		query		integer	false	"points to skip"	default(0)
//	@Param			format		query		string	false	"accepted for esmond's clients"	Enums(json)
//	@Success		200			{array}		esmondPointDoc
//	@Failure		400			{object}	esmondErrorBody	"unknown event or summary type, malformed window or parameter"
//	@Failure		401			{object}	esmondErrorBody	"ARCHIVE_READ=token and no valid credentials"
//	@Failure		404			{object}	esmondErrorBody	"no such metadata, event type or summary"
//	@Security		BearerAuth
//	@Security		ArchiveKey
//	@Router			/esmond/perfsonar/archive/{key}/{event}/{summary} [get]
//	@Router			/esmond/perfsonar/archive/{key}/{event}/{summary}/ [get]
func (s *Server) esmondSeries(c *gin.Context) {
	sp, err := parseSeriesPath(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	q := c.Request.URL.Query()
	dq, err := parseEsmondData(q, s.deps.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	m, et, ok := s.esmondLoadEventType(c)
	if !ok {
		return
	}
	if sp.SummaryType != archive.SummaryBase && !sp.HasWindow {
		s.esmondSummaryList(c, m, et, sp.SummaryType)
		return
	}
	if sp.SummaryType != archive.SummaryBase && !m.HasSummary(et.Name, sp.SummaryType, sp.Window) {
		s.fail(c, esmondNotFound("event type "+et.Name+" of metadata "+m.Key+" has no "+sp.SummaryType+" summary of window "+strconv.FormatInt(sp.Window, 10)))
		return
	}
	r := archive.TimeRange{}
	if dq.Time.Set {
		r.Start = dq.Time.Begin
		if !dq.Time.Open {
			r.End = dq.Time.End
		}
	}
	pts, err := s.deps.Archive.Data(c.Request.Context(), archive.DataQuery{
		Key: m.Key, EventType: et.Name, SummaryType: sp.SummaryType, Window: sp.Window,
		Range: r, Limit: dq.Page.Limit + 1, Offset: dq.Page.Offset,
	})
	if err != nil {
		s.fail(c, esmondStoreError(err))
		return
	}
	// One point more than the page tells whether a next page exists.
	total := dq.Page.Offset + len(pts)
	if len(pts) > dq.Page.Limit {
		pts = pts[:dq.Page.Limit]
	}
	prev, next := pageLinks(c, q, dq.Page, total)
	setLinkHeader(c, prev, next)
	c.Data(http.StatusOK, esmondContentType, appendPoints(make([]byte, 0, 64*len(pts)+2), pts))
}

// appendPoints writes pts as [{"ts": ..., "val": ...}, ...]. Each Val is
// the archive's JSON of a value (archive.Value.MarshalJSON or a stored
// document validated on write), copied as is: re-validating it through
// encoding/json cost a tenth of a day's read.
func appendPoints(b []byte, pts []archive.Point) []byte {
	b = append(b, '[')
	for i, p := range pts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"ts":`...)
		b = strconv.AppendInt(b, p.TS, 10)
		b = append(b, `,"val":`...)
		if len(p.Val) == 0 {
			b = append(b, "null"...)
		} else {
			b = append(b, p.Val...)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// esmondSummaryData godoc
//
//	@Summary		A summary's data
//	@Description	The summary computed by the server: aggregations (sum of numbers, union of histograms adding every count, numerator and denominator sums of a percentage), averages, statistics of a histogram (mean, median, mode, minimum, maximum, percentile-25/75/95, variance, standard-deviation). Each ts is the start of its epoch-aligned window; window 0 gives one summary per base point. Time filters select windows by their start; limit/offset page them, with a Link header. Readable from any origin.
//	@Tags			esmond
//	@Produce		json
//	@Param			key			path		string	true	"metadata-key"
//	@Param			event		path		string	true	"event type"
//	@Param			summary		path		string	true	"aggregations, averages or statistics"
//	@Param			window		path		integer	true	"summary window, seconds"
//	@Param			time		query		integer	false	"exactly this Unix second"
//	@Param			time-start	query		integer	false	"at or after (Unix seconds)"
//	@Param			time-end	query		integer	false	"at or before (Unix seconds)"
//	@Param			time-range	query		integer	false	"seconds: before now, after time-start, or before time-end"
//	@Param			limit		query		integer	false	"page size; 0 or absent: 1500"	default(1500)
//	@Param			offset		query		integer	false	"points to skip"	default(0)
//	@Param			format		query		string	false	"accepted for esmond's clients"	Enums(json)
//	@Success		200			{array}		esmondPointDoc
//	@Failure		400			{object}	esmondErrorBody	"unknown event or summary type, malformed window or parameter"
//	@Failure		401			{object}	esmondErrorBody	"ARCHIVE_READ=token and no valid credentials"
//	@Failure		404			{object}	esmondErrorBody	"no such metadata, event type or summary"
//	@Security		BearerAuth
//	@Security		ArchiveKey
//	@Router			/esmond/perfsonar/archive/{key}/{event}/{summary}/{window} [get]
//	@Router			/esmond/perfsonar/archive/{key}/{event}/{summary}/{window}/ [get]
func (s *Server) esmondSummaryData(c *gin.Context) { s.esmondSeries(c) }

// esmondPostSummary godoc
//
//	@Summary		Summaries are not written
//	@Description	Summaries are computed by the server: a POST to a summary URI is 400. Post points to the event type's base URI.
//	@Tags			esmond
//	@Param			key		path		string	true	"metadata-key"
//	@Param			event	path		string	true	"event type"
//	@Param			summary	path		string	true	"summary type"
//	@Param			window	path		integer	true	"summary window"
//	@Failure		400		{object}	esmondErrorBody	"always"
//	@Failure		401		{object}	esmondErrorBody	"no valid archive key or token"
//	@Security		ArchiveKey
//	@Security		BearerAuth
//	@Router			/esmond/perfsonar/archive/{key}/{event}/{summary}/{window} [post]
//	@Router			/esmond/perfsonar/archive/{key}/{event}/{summary}/{window}/ [post]
func (s *Server) esmondPostSummary(c *gin.Context) { s.esmondPostPoint(c) }

// esmondSummaryList answers .../{summary} without a window: the summaries
// of that type (esmond's summary_details), or 404 when there are none.
func (s *Server) esmondSummaryList(c *gin.Context, m archive.Metadata, et archive.EventType, summaryType string) {
	out := []esmondSummaryJSON{}
	for _, sm := range et.Summaries {
		if sm.Type == summaryType {
			out = append(out, encodeSummary(esmondArchiveOf(c), m.Key, et.Name, sm))
		}
	}
	if len(out) == 0 {
		s.fail(c, esmondNotFound("event type "+et.Name+" of metadata "+m.Key+" has no "+summaryType+" summaries"))
		return
	}
	writeEsmondJSON(c, http.StatusOK, out)
}

// esmondPostPoint godoc
//
//	@Summary		Add one point to a base URI
//	@Description	Body {"ts": Unix seconds, "val": value}; ts and numbers may be JSON numbers or numeric strings. The value is validated for the event type's value type (integer, float, percentage {"numerator", "denominator"}, histogram {bucket: count}, JSON, subintervals, packet-trace). A numeric point where one already stands at that ts is 409 (pScheduler reads it as "already there"). Summaries are computed by the server: posting to a summary URI is 400.
//	@Tags			esmond
//	@Accept			json
//	@Param			key		path		string			true	"metadata-key"
//	@Param			event	path		string			true	"event type"
//	@Param			summary	path		string			true	"base (anything else is 400)"
//	@Param			point	body		esmondPointDoc	true	"the point"
//	@Success		201		"stored"
//	@Failure		400		{object}	esmondErrorBody	"malformed point, invalid value, or a summary URI"
//	@Failure		401		{object}	esmondErrorBody	"no valid archive key or token, and not from ARCHIVE_WRITE_CIDRS"
//	@Failure		403		{object}	esmondErrorBody	"token without archive:write"
//	@Failure		404		{object}	esmondErrorBody	"no such metadata or event type"
//	@Failure		409		{object}	esmondErrorBody	"a numeric point already stands at this ts"
//	@Failure		413		{object}	esmondErrorBody	"body over 8 MiB"
//	@Security		ArchiveKey
//	@Security		BearerAuth
//	@Router			/esmond/perfsonar/archive/{key}/{event}/{summary} [post]
//	@Router			/esmond/perfsonar/archive/{key}/{event}/{summary}/ [post]
func (s *Server) esmondPostPoint(c *gin.Context) {
	sp, err := parseSeriesPath(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if sp.SummaryType != archive.SummaryBase {
		s.fail(c, badRequest("only base data can be written: summaries are computed by the server; post to "+
			esmondURI(esmondArchiveOf(c), clip(c.Param("key"), 40), clip(c.Param("event"), 64), "base")))
		return
	}
	if sp.HasWindow {
		s.fail(c, badRequest("a base URI has no summary window"))
		return
	}
	body, err := readEsmondBody(c, esmondMaxPointBody)
	if err != nil {
		s.fail(c, err)
		return
	}
	ts, raw, err := decodePoint(body)
	if err != nil {
		s.fail(c, err)
		return
	}
	name := c.Param("event")
	if _, known := archive.EventTypeOf(name); !known {
		s.fail(c, badRequest("invalid event type \""+clip(name, 64)+"\""))
		return
	}
	key, err := esmondKeyParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.esmondWrite(c, key, []esmondValue{{TS: ts, EventType: name, Raw: raw}})
}

// esmondBulk godoc
//
//	@Summary		Add points of several event types and times at once
//	@Description	esmond's bulk interface: {"data": [{"ts": T, "val": [{"event-type": E, "val": V}, ...]}, ...]}. All or nothing: one invalid value, unknown event type or numeric point at an existing ts, and nothing is stored. Errors name the position of the offending element.
//	@Tags			esmond
//	@Accept			json
//	@Param			key		path		string			true	"metadata-key"
//	@Param			data	body		esmondBulkDoc	true	"the bulk document"
//	@Success		201		"stored"
//	@Failure		400		{object}	esmondErrorBody	"malformed document or invalid value"
//	@Failure		401		{object}	esmondErrorBody	"no valid archive key or token, and not from ARCHIVE_WRITE_CIDRS"
//	@Failure		403		{object}	esmondErrorBody	"token without archive:write"
//	@Failure		404		{object}	esmondErrorBody	"no such metadata, or an event type it lacks"
//	@Failure		409		{object}	esmondErrorBody	"a numeric point already stands at one of the ts"
//	@Failure		413		{object}	esmondErrorBody	"body over 32 MiB"
//	@Security		ArchiveKey
//	@Security		BearerAuth
//	@Router			/esmond/perfsonar/archive/{key} [put]
//	@Router			/esmond/perfsonar/archive/{key}/ [put]
func (s *Server) esmondBulk(c *gin.Context) {
	key, err := esmondKeyParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	body, err := readEsmondBody(c, esmondMaxBulkBody)
	if err != nil {
		s.fail(c, err)
		return
	}
	vals, err := decodeBulk(body)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.esmondWrite(c, key, vals)
}

// esmondWrite validates vals with the archive's validators and stores them
// in one transaction; it answers 201 with esmond's body, "".
func (s *Server) esmondWrite(c *gin.Context, key string, vals []esmondValue) {
	pts := make([]archive.DataPoint, 0, len(vals))
	for _, v := range vals {
		val, err := archive.ParseValue(v.EventType, v.Raw)
		if err != nil {
			s.fail(c, esmondStoreError(err))
			return
		}
		pts = append(pts, archive.DataPoint{EventType: v.EventType, TS: v.TS, Val: val})
	}
	if err := s.deps.Archive.AddPoints(c.Request.Context(), key, pts); err != nil {
		s.fail(c, esmondKeyError(err, key))
		return
	}
	// esmond answers a JSON empty string.
	writeEsmondJSON(c, http.StatusCreated, "")
}
