package api

import (
	"math"
	"strconv"

	"github.com/gin-gonic/gin"
)

// Limits of the heatmap.
const (
	heatDefaultRows = 400
	heatMaxRows     = 4000
)

// dashHeatmap returns the fleet's host × hour grid.
//
//	@Summary		Dashboard: host × time heatmap of the fleet
//	@Description	The last 24 hours, one column per hour, for every monitored host in list order, aggregated on the server to at most rows rows (about one per pixel of the drawing): row i covers per_row consecutive hosts and holds, per hour, the worst of their values (the highest median RTT in ms, or the highest loss in percent). names[i] is the first host of row i. v is row-major, null where no host of the row has data. complete is false while the server still reads some hosts' history from the archive (ask again shortly).
//	@Tags			dashboard
//	@Produce		json
//	@Param			metric	query		string	false	"rtt (median RTT, ms) or loss (percent)"	Enums(rtt, loss)	default(rtt)
//	@Param			rows	query		int		false	"rows wanted, about the drawing's height in pixels"	minimum(1)	maximum(4000)	default(400)
//	@Success		200		{object}	dashHeatmapDoc
//	@Failure		400		{object}	errorBody	"invalid_parameter"
//	@Failure		401		{object}	errorBody	"missing_token, invalid_token (when archive reads need a token)"
//	@Failure		403		{object}	errorBody	"insufficient_scope"
//	@Failure		503		{object}	errorBody	"keys_unavailable"
//	@Security		BearerAuth
//	@Router			/dashboard/api/heatmap [get]
func (s *Server) dashHeatmap(c *gin.Context) {
	metric := c.DefaultQuery("metric", "rtt")
	if metric != "rtt" && metric != "loss" {
		s.fail(c, badParam("metric", "rtt or loss"))
		return
	}
	rows := heatDefaultRows
	if v := c.Query("rows"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > heatMaxRows {
			s.fail(c, badParam("rows", "an integer from 1 to 4000"))
			return
		}
		rows = n
	}
	recs := s.dash.records()
	names := make([]string, len(recs))
	for i := range recs {
		names[i] = recs[i].Name
	}
	hh, complete := s.dash.fleet.hours(names, s.dash.ctx)
	per := max(1, (len(names)+rows-1)/rows)
	nrows := (len(names) + per - 1) / per
	grid := make([]float64, nrows*fleetHours)
	for i := range grid {
		grid[i] = math.NaN()
	}
	for i, h := range hh {
		if h == nil {
			continue
		}
		row := grid[(i/per)*fleetHours:][:fleetHours]
		vals := h.med
		if metric == "loss" {
			vals = h.loss
		}
		for j, v := range vals {
			if f := float64(v); !math.IsNaN(f) && (math.IsNaN(row[j]) || f > row[j]) {
				row[j] = f
			}
		}
	}
	first := fleetFirst(s.deps.Now())
	b := make([]byte, 0, 64+nrows*(fleetHours*5+24))
	b = append(b, `{"metric":"`...)
	b = append(b, metric...)
	b = append(b, `","first":`...)
	b = strconv.AppendInt(b, first, 10)
	b = append(b, `,"hours":`...)
	b = strconv.AppendInt(b, fleetHours, 10)
	b = append(b, `,"hosts":`...)
	b = strconv.AppendInt(b, int64(len(names)), 10)
	b = append(b, `,"complete":`...)
	b = strconv.AppendBool(b, complete)
	b = append(b, `,"per_row":`...)
	b = strconv.AppendInt(b, int64(per), 10)
	b = append(b, `,"names":[`...)
	for r := 0; r < nrows; r++ {
		if r > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, names[r*per])
	}
	b = append(b, `],"v":[`...)
	for i, v := range grid {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendShort(b, v)
	}
	b = append(b, "]}"...)
	dashJSON(c, b)
}

// dashHeatmapDoc documents the heatmap document.
type dashHeatmapDoc struct {
	Metric   string     `json:"metric" enums:"rtt,loss"`
	First    int64      `json:"first" example:"1764400000"` // Unix seconds of the first column's hour
	Hours    int        `json:"hours" example:"24"`         // columns
	Hosts    int        `json:"hosts" example:"10000"`
	Complete bool       `json:"complete" example:"true"` // false while some hosts' history is still being read
	PerRow   int        `json:"per_row" example:"25"`    // hosts aggregated in one row
	Names    []string   `json:"names"`                   // first host of each row
	V        []*float64 `json:"v"`                       // rows × hours, row-major
}
