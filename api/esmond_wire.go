package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/pingapi/pingapi/pkg/archive"
)

// Body limits of the esmond writes.
const (
	esmondMaxMetadataBody = 256 << 10 // POST metadata
	esmondMaxPointBody    = 8 << 20   // POST one point (a histogram may have many buckets)
	esmondMaxBulkBody     = 32 << 20  // PUT a bulk document
)

// esmondEventTypeJSON is one element of a metadata record's event-types.
type esmondEventTypeJSON struct {
	BaseURI     string              `json:"base-uri" example:"/esmond/perfsonar/archive/2ba58a26aee64a1e94cd2b5bacbb2cc6/histogram-rtt/base"`
	EventType   string              `json:"event-type" example:"histogram-rtt"`
	Summaries   []esmondSummaryJSON `json:"summaries"`
	TimeUpdated *int64              `json:"time-updated" example:"1397482735"` // Unix seconds of the newest point; null before any
}

// esmondSummaryJSON is one summary of an event type. summary-window is a
// string, as esmond writes it.
type esmondSummaryJSON struct {
	SummaryType   string `json:"summary-type" enums:"aggregation,average,statistics" example:"statistics"`
	SummaryWindow string `json:"summary-window" example:"86400"`
	TimeUpdated   *int64 `json:"time-updated" example:"1397482735"`
	URI           string `json:"uri" example:"/esmond/perfsonar/archive/2ba58a26aee64a1e94cd2b5bacbb2cc6/histogram-rtt/statistics/86400"`
}

// esmondMetadataDoc documents the JSON of a metadata record for OpenAPI;
// the free-form parameters (ip-transport-protocol, time-duration, ...) are
// further string fields of the same object, and the first element of a
// search answer also has the paging fields.
type esmondMetadataDoc struct {
	MetadataKey      string                `json:"metadata-key" example:"2ba58a26aee64a1e94cd2b5bacbb2cc6"`
	SubjectType      string                `json:"subject-type" example:"point-to-point" enums:"point-to-point,network-element"`
	Source           string                `json:"source" example:"10.1.1.1"`
	Destination      string                `json:"destination,omitempty" example:"10.1.1.2"` // point-to-point only
	MeasurementAgent string                `json:"measurement-agent" example:"10.1.1.1"`
	InputSource      string                `json:"input-source" example:"host1.example.net"`
	InputDestination string                `json:"input-destination,omitempty" example:"host2.example.net"` // point-to-point only
	ToolName         string                `json:"tool-name" example:"pingapi/ping"`
	EventTypes       []esmondEventTypeJSON `json:"event-types"`
	URI              string                `json:"uri" example:"/esmond/perfsonar/archive/2ba58a26aee64a1e94cd2b5bacbb2cc6/"`
	URL              string                `json:"url" example:"http://127.0.0.1:8080/esmond/perfsonar/archive/2ba58a26aee64a1e94cd2b5bacbb2cc6/"`
	CountTotal       *int                  `json:"metadata-count-total,omitempty" example:"1"`      // first element of a search only
	PreviousPage     *string               `json:"metadata-previous-page,omitempty" example:"null"` // first element of a search only
	NextPage         *string               `json:"metadata-next-page,omitempty" example:"null"`     // first element of a search only
}

// esmondMetadataPostDoc documents a metadata registration for OpenAPI:
// the fields of esmondMetadataDoc without the server's (metadata-key,
// URIs, time-updated), and any free-form parameter as a further field.
type esmondMetadataPostDoc struct {
	SubjectType      string                   `json:"subject-type" example:"point-to-point" enums:"point-to-point,network-element" binding:"required"`
	Source           string                   `json:"source" example:"10.1.1.1" binding:"required"`
	Destination      string                   `json:"destination" example:"10.1.1.2"` // required for point-to-point; refused for network-element
	MeasurementAgent string                   `json:"measurement-agent" example:"10.1.1.1" binding:"required"`
	InputSource      string                   `json:"input-source" example:"host1.example.net"`
	InputDestination string                   `json:"input-destination" example:"host2.example.net"` // point-to-point only
	ToolName         string                   `json:"tool-name" example:"bwctl/ping" binding:"required"`
	EventTypes       []esmondEventTypePostDoc `json:"event-types" binding:"required"`
}

type esmondEventTypePostDoc struct {
	EventType string                 `json:"event-type" example:"histogram-rtt"`
	Summaries []esmondSummaryPostDoc `json:"summaries"`
}

type esmondSummaryPostDoc struct {
	SummaryType   string `json:"summary-type" example:"statistics"`
	SummaryWindow string `json:"summary-window" swaggertype:"string" example:"86400"` // integer or numeric string
}

// esmondURI is the path of a metadata record under the archive path a
// (esmondArchiveOf), or of one of its series when more is given: key/,
// key/event/base, key/event/aggregations/3600.
func esmondURI(a, key string, more ...string) string {
	if len(more) == 0 {
		return a + key + "/"
	}
	return a + key + "/" + strings.Join(more, "/")
}

func unixOrNull(ts int64) *int64 {
	if ts == 0 {
		return nil
	}
	return &ts
}

// encodeEventType is the wire form of one event type of metadata key,
// under the archive path a.
func encodeEventType(a, key string, e archive.EventType) esmondEventTypeJSON {
	out := esmondEventTypeJSON{
		BaseURI:     esmondURI(a, key, e.Name, "base"),
		EventType:   e.Name,
		Summaries:   make([]esmondSummaryJSON, 0, len(e.Summaries)),
		TimeUpdated: unixOrNull(e.TimeUpdated),
	}
	for _, s := range e.Summaries {
		out.Summaries = append(out.Summaries, encodeSummary(a, key, e.Name, s))
	}
	return out
}

func encodeSummary(a, key, event string, s archive.Summary) esmondSummaryJSON {
	w := strconv.FormatInt(s.Window, 10)
	return esmondSummaryJSON{
		SummaryType: s.Type, SummaryWindow: w, TimeUpdated: unixOrNull(s.TimeUpdated),
		URI: esmondURI(a, key, event, archive.SummaryURIName(s.Type), w),
	}
}

// encodeMetadata is the wire form of m: a flat object of the subject
// fields, every free-form parameter as a string, the event types and the
// URIs. url is absolute, on the host the client called.
func encodeMetadata(c *gin.Context, m archive.Metadata) map[string]any {
	out := make(map[string]any, 12+len(m.Parameters))
	for k, v := range m.Parameters {
		out[k] = v
	}
	a := esmondArchiveOf(c)
	ets := make([]esmondEventTypeJSON, 0, len(m.EventTypes))
	for _, e := range m.EventTypes {
		ets = append(ets, encodeEventType(a, m.Key, e))
	}
	uri := esmondURI(a, m.Key)
	for k, v := range map[string]any{
		"metadata-key": m.Key, "subject-type": m.SubjectType,
		"source": m.Source, "destination": m.Destination, "measurement-agent": m.MeasurementAgent,
		"input-source": m.InputSource, "input-destination": m.InputDestination, "tool-name": m.ToolName,
		"event-types": ets, "uri": uri, "url": absoluteURL(c, uri, nil),
	} {
		out[k] = v
	}
	if m.SubjectType == archive.SubjectNetworkElement { // esmond's network-element subject has neither
		delete(out, "destination")
		delete(out, "input-destination")
	}
	return out
}

// decodeMetadata reads a metadata registration (esmond's
// ArchiveSerializer.to_internal_value): the subject fields, event-types
// with their summaries, and every other field as a free-form parameter
// kept as a string (a number keeps its JSON text, so "time-probe-interval":
// 0.1 reads back "0.1"). Validation of the record itself is
// archive.Metadata.Normalize's.
func decodeMetadata(body []byte) (archive.Metadata, error) {
	var raw map[string]json.RawMessage
	if err := decodeOne(body, &raw); err != nil {
		return archive.Metadata{}, err
	}
	if raw == nil {
		return archive.Metadata{}, badRequest("the body must be a JSON object describing the measurement")
	}
	if _, ok := raw["metadata-key"]; ok {
		return archive.Metadata{}, badRequest("metadata-key is assigned by the server and cannot be given")
	}
	if _, ok := raw["subject-type"]; !ok {
		return archive.Metadata{}, badRequest("missing subject-type field in request")
	}
	ets, ok := raw["event-types"]
	if !ok {
		return archive.Metadata{}, badRequest("missing event-types field in request")
	}
	m := archive.Metadata{Parameters: map[string]string{}}
	var err error
	if m.EventTypes, err = decodeEventTypes(ets); err != nil {
		return m, err
	}
	fields := map[string]*string{
		"subject-type": &m.SubjectType, "source": &m.Source, "destination": &m.Destination,
		"measurement-agent": &m.MeasurementAgent, "input-source": &m.InputSource,
		"input-destination": &m.InputDestination, "tool-name": &m.ToolName,
	}
	for k, v := range raw {
		if k == "event-types" {
			continue
		}
		if dst, ok := fields[k]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return m, badRequest(k + " must be a string")
			}
			continue
		}
		s, keep, err := parameterText(v)
		if err != nil {
			return m, badRequest("parameter " + clip(k, 64) + ": " + err.Error())
		}
		if keep {
			m.Parameters[k] = s
		}
	}
	return m, nil
}

// parameterText is the stored text of a free-form parameter: a string as
// is, a number as its JSON text, true/false as esmond (Python) writes them,
// an object or array as compact JSON; null is dropped (keep false).
func parameterText(v json.RawMessage) (s string, keep bool, err error) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0:
		return "", false, errors.New("empty value")
	case bytes.Equal(v, []byte("null")):
		return "", false, nil
	case bytes.Equal(v, []byte("true")):
		return "True", true, nil
	case bytes.Equal(v, []byte("false")):
		return "False", true, nil
	case v[0] == '"':
		err = json.Unmarshal(v, &s)
		return s, true, err
	case v[0] == '{' || v[0] == '[':
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return "", false, err
		}
		return b.String(), true, nil
	}
	return string(v), true, nil // a number: its JSON text
}

// decodeEventTypes reads the event-types list of a registration.
func decodeEventTypes(raw json.RawMessage) ([]archive.EventType, error) {
	var list []struct {
		EventType *string           `json:"event-type"`
		Summaries []json.RawMessage `json:"summaries"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, badRequest("event-types must be a list of {\"event-type\": ..., \"summaries\": [...]} objects")
	}
	out := make([]archive.EventType, 0, len(list))
	for i, e := range list {
		if e.EventType == nil {
			return nil, badRequest("event-types[" + strconv.Itoa(i) + "]: no event-type defined")
		}
		if _, ok := archive.EventTypeOf(*e.EventType); !ok {
			return nil, badRequest("invalid event-type \"" + clip(*e.EventType, 64) + "\"")
		}
		et := archive.EventType{Name: *e.EventType}
		for _, rs := range e.Summaries {
			var s struct {
				Type   *string         `json:"summary-type"`
				Window json.RawMessage `json:"summary-window"`
			}
			if err := json.Unmarshal(rs, &s); err != nil {
				return nil, badRequest("summaries of " + et.Name + " must be {\"summary-type\": ..., \"summary-window\": ...} objects")
			}
			if s.Type == nil {
				return nil, badRequest("a summary of " + et.Name + " has no summary-type")
			}
			if *s.Type == archive.SummaryBase {
				continue // esmond ignores an explicit base summary
			}
			if t := *s.Type; t != archive.SummaryAggregation && t != archive.SummaryAverage && t != archive.SummaryStatistics {
				return nil, badRequest("invalid summary-type \"" + clip(*s.Type, 32) + "\"; want aggregation, average or statistics")
			}
			if len(s.Window) == 0 {
				return nil, badRequest("a " + *s.Type + " summary of " + et.Name + " has no summary-window")
			}
			w, err := jsonWholeNumber(s.Window)
			if err != nil {
				return nil, badRequest("summary-window must be an integer number of seconds")
			}
			et.Summaries = append(et.Summaries, archive.Summary{Type: *s.Type, Window: w})
		}
		out = append(out, et)
	}
	return out, nil
}

// jsonWholeNumber reads an integer given as a JSON number (86400 or
// 86400.0) or a string of decimal digits ("86400"), as Python's int()
// accepts them.
func jsonWholeNumber(raw json.RawMessage) (int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
		return strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, errors.New("not an integer")
	}
	return int64(f), nil
}

// decodeOne decodes exactly one JSON value from body into v.
func decodeOne(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.Is(err, io.EOF) {
			return badRequest("no data payload: the body is empty")
		}
		if errors.As(err, &te) && te.Field == "" {
			return newError(http.StatusBadRequest, CodeInvalidJSON, "the body must be a JSON object", err)
		}
		return newError(http.StatusBadRequest, CodeInvalidJSON, "the body is not valid JSON", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return newError(http.StatusBadRequest, CodeInvalidJSON, "the body must hold exactly one JSON value", err)
	}
	return nil
}

// readEsmondBody checks the Content-Type (the project's requireJSON) and reads at
// most limit bytes of the body.
func readEsmondBody(c *gin.Context, limit int64) ([]byte, error) {
	if err := requireJSON(c.Request.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, newError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			"the body is larger than "+strconv.FormatInt(mbe.Limit, 10)+" bytes", err)
	case err != nil:
		return nil, newError(http.StatusBadRequest, CodeInvalidJSON, "the body could not be read", err)
	case len(bytes.TrimSpace(b)) == 0:
		return nil, badRequest("no data payload: the body is empty")
	}
	return b, nil
}
