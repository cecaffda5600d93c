package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/archive"
)

// esmondSearch godoc
//
//	@Summary		Search measurement metadata
//	@Description	esmond's metadata search. Every parameter is optional; any parameter not listed is a free-form filter on a metadata parameter of that name (e.g. ip-transport-protocol=icmp), compared as a string. source, destination and measurement-agent take an address or a host name, resolved per dns-match-rule. The time filters select records by their time-updated (the newest data of any event type). The first element of the answer carries metadata-count-total, metadata-previous-page and metadata-next-page; the Link header has the same links. Readable from any origin.
//	@Tags			esmond
//	@Produce		json
//	@Param			source				query		string	false	"sender: IP address or host name"
//	@Param			destination			query		string	false	"receiver: IP address or host name"
//	@Param			measurement-agent	query		string	false	"where the measurement ran: IP address or host name"
//	@Param			input-source		query		string	false	"source exactly as given to the tool"
//	@Param			input-destination	query		string	false	"destination exactly as given to the tool"
//	@Param			tool-name			query		string	false	"e.g. pingapi/ping, pingapi/monitor, bwctl/ping"
//	@Param			subject-type		query		string	false	"point-to-point or network-element"
//	@Param			metadata-key		query		string	false	"one record"
//	@Param			event-type			query		string	false	"records that have this event type, e.g. histogram-rtt"
//	@Param			summary-type		query		string	false	"records with a summary of this type"	Enums(base, aggregation, average, statistics)
//	@Param			summary-window		query		integer	false	"records with a summary of this window (seconds)"
//	@Param			dns-match-rule		query		string	false	"how host names resolve"	Enums(v4v6, only-v4, only-v6, prefer-v4, prefer-v6)	default(v4v6)
//	@Param			time				query		integer	false	"updated exactly at this Unix second"
//	@Param			time-start			query		integer	false	"updated at or after (Unix seconds)"
//	@Param			time-end			query		integer	false	"updated at or before (Unix seconds)"
//	@Param			time-range			query		integer	false	"seconds: before now, after time-start, or before time-end"
//	@Param			limit				query		integer	false	"page size; 0 or absent: 1500"	default(1500)
//	@Param			offset				query		integer	false	"records to skip"	default(0)
//	@Param			format				query		string	false	"accepted for esmond's clients"	Enums(json)
//	@Success		200					{array}		esmondMetadataDoc
//	@Failure		400					{object}	esmondErrorBody	"malformed parameter, or a host name without an address under dns-match-rule"
//	@Failure		401					{object}	esmondErrorBody	"ARCHIVE_READ=token and no valid credentials"
//	@Failure		403					{object}	esmondErrorBody	"token without archive:read"
//	@Failure		502					{object}	esmondErrorBody	"the DNS resolver failed"
//	@Failure		504					{object}	esmondErrorBody	"the DNS resolver timed out"
//	@Security		BearerAuth
//	@Security		ArchiveKey
//	@Router			/esmond/perfsonar/archive [get]
//	@Router			/esmond/perfsonar/archive/ [get]
func (s *Server) esmondSearch(c *gin.Context) {
	q := c.Request.URL.Query()
	p, err := parseEsmondSearch(q, s.deps.Now(), func(name string) bool { _, ok := archive.EventTypeOf(name); return ok })
	if err != nil {
		s.fail(c, err)
		return
	}
	f, err := s.esmondFilter(c, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	var mds []archive.Metadata
	var total int
	if key, ok := p.Exact[qMetadataKey]; ok {
		mds, total, err = s.searchByKey(c.Request.Context(), f, key)
	} else {
		mds, total, err = s.deps.Archive.SearchMetadata(c.Request.Context(), f)
	}
	if err != nil {
		s.fail(c, esmondStoreError(err))
		return
	}
	prev, next := pageLinks(c, q, p.Page, total)
	setLinkHeader(c, prev, next)
	out := make([]map[string]any, 0, len(mds))
	for _, m := range mds {
		out = append(out, encodeMetadata(c, m))
	}
	if len(out) > 0 {
		out[0]["metadata-count-total"] = total
		out[0]["metadata-previous-page"] = prev
		out[0]["metadata-next-page"] = next
	}
	writeEsmondJSON(c, http.StatusOK, out)
}

// esmondFilter turns a parsed search into the archive's filter, resolving
// host names.
func (s *Server) esmondFilter(c *gin.Context, p esmondSearch) (archive.Filter, error) {
	f := archive.Filter{
		SubjectType:      p.Exact[qSubjectType],
		InputSource:      p.Exact[qInputSource],
		InputDestination: p.Exact[qInputDestination],
		ToolName:         p.Exact[qToolName],
		EventType:        p.Exact[qEventType],
		SummaryType:      p.Exact[qSummaryType],
		Parameters:       p.Params,
		Limit:            p.Page.Limit,
		Offset:           p.Page.Offset,
	}
	if w, ok := p.Exact[qSummaryWindow]; ok {
		n, _ := strconv.ParseInt(w, 10, 64)
		f.SummaryWindow = &n
	}
	if p.Time.Set {
		f.Updated = archive.TimeRange{Start: p.Time.Begin}
		if !p.Time.Open {
			f.Updated.End = p.Time.End
		}
	}
	for _, x := range []struct {
		name string
		dst  *[]string
	}{{qSource, &f.Source}, {qDestination, &f.Destination}, {qMeasurementAgent, &f.MeasurementAgent}} {
		v, ok := p.Hosts[x.name]
		if !ok {
			continue
		}
		addrs, err := s.resolveEsmondHost(c.Request.Context(), x.name, v, p.Rule)
		if err != nil {
			return f, err
		}
		*x.dst = make([]string, 0, len(addrs))
		for _, a := range addrs {
			*x.dst = append(*x.dst, a.String())
		}
	}
	return f, nil
}

// pageLinks are esmond's (Django REST framework's LimitOffsetPagination)
// previous and next page URLs of a page over total items, or nil.
func pageLinks(c *gin.Context, q url.Values, p esmondPage, total int) (prev, next *string) {
	with := func(offset int) *string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set(qLimit, strconv.Itoa(p.Limit))
		if offset > 0 {
			v.Set(qOffset, strconv.Itoa(offset))
		} else {
			v.Del(qOffset)
		}
		u := absoluteURL(c, c.Request.URL.Path, v)
		return &u
	}
	if p.Offset+p.Limit < total {
		next = with(p.Offset + p.Limit)
	}
	if p.Offset > 0 {
		prev = with(max(p.Offset-p.Limit, 0))
	}
	return prev, next
}

// setLinkHeader sets the RFC 8288 Link header of a page.
func setLinkHeader(c *gin.Context, prev, next *string) {
	var l string
	if next != nil {
		l = "<" + *next + `>; rel="next"`
	}
	if prev != nil {
		if l != "" {
			l += ", "
		}
		l += "<" + *prev + `>; rel="prev"`
	}
	if l != "" {
		c.Header("Link", l)
	}
}

// esmondKeyParam returns the metadata key of the path, or a 404.
func esmondKeyParam(c *gin.Context) (string, error) {
	k := c.Param("key")
	if !archive.ValidKey(k) {
		return "", esmondNotFound("no metadata " + clip(k, 40))
	}
	return k, nil
}

func esmondNotFound(msg string) *Error {
	return newError(http.StatusNotFound, CodeNotFound, msg, nil)
}

// esmondMetadataDetail godoc
//
//	@Summary		One metadata record
//	@Description	The record with its event types, summaries and URIs. Readable from any origin.
//	@Tags			esmond
//	@Produce		json
//	@Param			key	path		string	true	"metadata-key (32 hex digits)"
//	@Success		200	{object}	esmondMetadataDoc
//	@Failure		401	{object}	esmondErrorBody	"ARCHIVE_READ=token and no valid credentials"
//	@Failure		404	{object}	esmondErrorBody	"no such metadata"
//	@Security		BearerAuth
//	@Security		ArchiveKey
//	@Router			/esmond/perfsonar/archive/{key} [get]
//	@Router			/esmond/perfsonar/archive/{key}/ [get]
func (s *Server) esmondMetadataDetail(c *gin.Context) {
	m, ok := s.esmondLoad(c)
	if !ok {
		return
	}
	writeEsmondJSON(c, http.StatusOK, encodeMetadata(c, m))
}

// esmondLoad returns the metadata record of the path, or writes the error.
func (s *Server) esmondLoad(c *gin.Context) (archive.Metadata, bool) {
	if err := parseEsmondFormat(c.Request.URL.Query()); err != nil {
		s.fail(c, err)
		return archive.Metadata{}, false
	}
	key, err := esmondKeyParam(c)
	if err != nil {
		s.fail(c, err)
		return archive.Metadata{}, false
	}
	m, err := s.deps.Archive.Metadata(c.Request.Context(), key)
	if err != nil {
		s.fail(c, esmondKeyError(err, key))
		return archive.Metadata{}, false
	}
	return m, true
}

// esmondCreateMetadata godoc
//
//	@Summary		Register measurement metadata
//	@Description	Registers a measurement description and returns it with the server's metadata-key and URIs. Registering identical metadata again returns the same record (and key), also 201, so clients need keep no state. source, destination and measurement-agent must be IP addresses; event types must be esmond's, with summaries their value type allows. Fields other than the subject's are free-form parameters, returned as strings.
//	@Tags			esmond
//	@Accept			json
//	@Produce		json
//	@Param			metadata	body		esmondMetadataPostDoc	true	"the measurement description; more fields are free-form parameters"
//	@Success		201			{object}	esmondMetadataDoc
//	@Failure		400			{object}	esmondErrorBody	"malformed or invalid metadata"
//	@Failure		401			{object}	esmondErrorBody	"no valid archive key or token, and not from ARCHIVE_WRITE_CIDRS"
//	@Failure		403			{object}	esmondErrorBody	"token without archive:write"
//	@Failure		413			{object}	esmondErrorBody	"body over 256 KiB"
//	@Failure		415			{object}	esmondErrorBody	"Content-Type is not JSON"
//	@Security		ArchiveKey
//	@Security		BearerAuth
//	@Router			/esmond/perfsonar/archive [post]
//	@Router			/esmond/perfsonar/archive/ [post]
func (s *Server) esmondCreateMetadata(c *gin.Context) {
	body, err := readEsmondBody(c, esmondMaxMetadataBody)
	if err != nil {
		s.fail(c, err)
		return
	}
	m, err := decodeMetadata(body)
	if err != nil {
		s.fail(c, err)
		return
	}
	m, _, err = s.deps.Archive.PutMetadata(c.Request.Context(), m)
	if err != nil {
		s.fail(c, esmondStoreError(err))
		return
	}
	writeEsmondJSON(c, http.StatusCreated, encodeMetadata(c, m))
}

// esmondDelete godoc
//
//	@Summary		Delete a metadata record and its data
//	@Description	Beyond esmond (which never had it): removes the record, every point of its event types and their summaries. Needs write access.
//	@Tags			esmond
//	@Param			key	path	string	true	"metadata-key (32 hex digits)"
//	@Success		204	"deleted"
//	@Failure		401	{object}	esmondErrorBody	"no valid archive key or token, and not from ARCHIVE_WRITE_CIDRS"
//	@Failure		403	{object}	esmondErrorBody	"token without archive:write"
//	@Failure		404	{object}	esmondErrorBody	"no such metadata"
//	@Security		ArchiveKey
//	@Security		BearerAuth
//	@Router			/esmond/perfsonar/archive/{key} [delete]
//	@Router			/esmond/perfsonar/archive/{key}/ [delete]
func (s *Server) esmondDelete(c *gin.Context) {
	key, err := esmondKeyParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.deps.Archive.DeleteMetadata(c.Request.Context(), key); err != nil {
		s.fail(c, esmondKeyError(err, key))
		return
	}
	c.Status(http.StatusNoContent)
}

// searchByKey answers a search with a metadata-key filter. archive.Filter
// has no key: the record is loaded, the search is narrowed to its exact
// subject fields, and the record is the answer when the narrowed search
// finds it (only records sharing its subject are read).
func (s *Server) searchByKey(ctx context.Context, f archive.Filter, key string) ([]archive.Metadata, int, error) {
	if !archive.ValidKey(key) {
		return nil, 0, nil
	}
	m, err := s.deps.Archive.Metadata(ctx, key)
	if errors.Is(err, archive.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	same := func(field *string, v string) bool {
		ok := *field == "" || *field == v
		*field = v
		return ok
	}
	sameAddr := func(field *[]string, v string) bool {
		ok := *field == nil || slices.Contains(*field, v)
		*field = []string{v}
		return ok
	}
	if !same(&f.SubjectType, m.SubjectType) || !same(&f.InputSource, m.InputSource) ||
		!same(&f.InputDestination, m.InputDestination) || !same(&f.ToolName, m.ToolName) ||
		!sameAddr(&f.Source, m.Source) || !sameAddr(&f.Destination, m.Destination) ||
		!sameAddr(&f.MeasurementAgent, m.MeasurementAgent) {
		return nil, 0, nil
	}
	offset := f.Offset
	f.Limit, f.Offset = -1, 0
	all, _, err := s.deps.Archive.SearchMetadata(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	for _, x := range all {
		if x.Key == key {
			if offset > 0 {
				return nil, 1, nil
			}
			return []archive.Metadata{x}, 1, nil
		}
	}
	return nil, 0, nil
}
