package archive

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

const metadataColumns = `id, mkey, subject_type, source, destination, agent, input_source, input_destination, tool_name, params, event_types, derived`

func scanMetadata(sc interface{ Scan(...any) error }) (int64, Metadata, error) {
	var (
		id       int64
		m        Metadata
		pj, ej   string
		derived  int
		storedET []storedEventType
	)
	if err := sc.Scan(&id, &m.Key, &m.SubjectType, &m.Source, &m.Destination, &m.MeasurementAgent,
		&m.InputSource, &m.InputDestination, &m.ToolName, &pj, &ej, &derived); err != nil {
		return 0, m, err
	}
	m.Derived = derived != 0
	if err := json.Unmarshal([]byte(pj), &m.Parameters); err != nil {
		return 0, m, fmt.Errorf("archive: parameters of %s: %w", m.Key, err)
	}
	if err := json.Unmarshal([]byte(ej), &storedET); err != nil {
		return 0, m, fmt.Errorf("archive: event types of %s: %w", m.Key, err)
	}
	if m.Derived {
		m.EventTypes = pingEventTypes()
		return id, m, nil
	}
	for _, e := range storedET {
		et := EventType{Name: e.Name}
		for _, s := range e.Summaries {
			et.Summaries = append(et.Summaries, Summary{Type: s.Type, Window: s.Window})
		}
		m.EventTypes = append(m.EventTypes, et)
	}
	return id, m, nil
}

// Metadata returns the record key with its event types' time-updated.
// ErrNotFound if there is none.
func (s *Store) Metadata(ctx context.Context, key string) (Metadata, error) {
	if !ValidKey(key) {
		return Metadata{}, ErrNotFound
	}
	id, m, err := scanMetadata(s.db.QueryRowContext(ctx, s.q(`SELECT `+metadataColumns+` FROM metadata WHERE mkey = ?`), key))
	if errors.Is(err, sql.ErrNoRows) {
		return Metadata{}, ErrNotFound
	}
	if err != nil {
		return Metadata{}, fmt.Errorf("archive: metadata: %w", err)
	}
	if err := s.fillUpdated(ctx, id, &m); err != nil {
		return Metadata{}, err
	}
	return m, nil
}

// fillUpdated sets the time-updated of m's event types and summaries: the
// ts of the newest base point (a pingapi series: of its newest
// measurement).
func (s *Store) fillUpdated(ctx context.Context, id int64, m *Metadata) error {
	if m.Derived {
		var ms sql.NullInt64
		if err := s.db.QueryRowContext(ctx, s.q(`SELECT MAX(ts) FROM measurement WHERE series = ?`), id).Scan(&ms); err != nil {
			return fmt.Errorf("archive: time-updated: %w", err)
		}
		for i := range m.EventTypes {
			setUpdated(&m.EventTypes[i], floorDiv(ms.Int64, 1000), ms.Valid)
		}
		return nil
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT event_type, MAX(ts) FROM point WHERE metadata_id = ? GROUP BY event_type`), id)
	if err != nil {
		return fmt.Errorf("archive: time-updated: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var et string
		var ts int64
		if err := rows.Scan(&et, &ts); err != nil {
			return fmt.Errorf("archive: time-updated: %w", err)
		}
		for i := range m.EventTypes {
			if m.EventTypes[i].Name == et {
				setUpdated(&m.EventTypes[i], ts, true)
			}
		}
	}
	return rows.Err()
}

func setUpdated(e *EventType, ts int64, ok bool) {
	if !ok {
		return
	}
	e.TimeUpdated = ts
	for j := range e.Summaries {
		e.Summaries[j].TimeUpdated = ts
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Updated is the newest time-updated of m's event types (0: no data).
func (m *Metadata) Updated() int64 {
	var u int64
	for _, e := range m.EventTypes {
		u = max(u, e.TimeUpdated)
	}
	return u
}

// SearchMetadata returns the page of metadata records that match f,
// ordered by creation (id), and the number of records that match in all.
func (s *Store) SearchMetadata(ctx context.Context, f Filter) ([]Metadata, int, error) {
	var where []string
	var args []any
	in := func(col string, vals []string) {
		if vals == nil {
			return
		}
		if len(vals) == 0 {
			where = append(where, "1 = 0")
			return
		}
		where = append(where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	eq("subject_type", f.SubjectType)
	in("source", f.Source)
	in("destination", f.Destination)
	in("agent", f.MeasurementAgent)
	eq("input_source", f.InputSource)
	eq("input_destination", f.InputDestination)
	eq("tool_name", f.ToolName)
	if f.EventType != "" || f.SummaryType != "" || f.SummaryWindow != nil {
		var sub []string
		var sargs []any
		if f.EventType != "" {
			sub, sargs = append(sub, "ms.event_type = ?"), append(sargs, f.EventType)
		}
		if f.SummaryType != "" {
			sub, sargs = append(sub, "ms.summary_type = ?"), append(sargs, f.SummaryType)
		}
		if f.SummaryWindow != nil {
			sub, sargs = append(sub, "ms.summary_window = ?"), append(sargs, *f.SummaryWindow)
		}
		// pingapi's series have no metadata_summary rows: they match when
		// pingEventTypes do.
		cond := "EXISTS (SELECT 1 FROM metadata_summary ms WHERE ms.metadata_id = metadata.id AND " + strings.Join(sub, " AND ") + ")"
		if pingTypesMatch(f) {
			cond = "(derived = 1 OR " + cond + ")"
		}
		where = append(where, cond)
		args = append(args, sargs...)
	}
	names := make([]string, 0, len(f.Parameters))
	for k := range f.Parameters {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		where = append(where, "EXISTS (SELECT 1 FROM metadata_param mp WHERE mp.metadata_id = metadata.id AND mp.name = ? AND mp.value = ?)")
		args = append(args, k, f.Parameters[k])
	}
	q := `SELECT ` + metadataColumns + ` FROM metadata`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id"
	limit := f.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	offset := max(f.Offset, 0)
	byTime := !f.Updated.isZero()
	if !byTime {
		var total int
		cq := `SELECT COUNT(*) FROM metadata`
		if len(where) > 0 {
			cq += " WHERE " + strings.Join(where, " AND ")
		}
		if err := s.db.QueryRowContext(ctx, s.q(cq), args...).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("archive: search: %w", err)
		}
		if limit > 0 {
			q += fmt.Sprintf(" LIMIT %d OFFSET %d", limit, offset)
		} else if offset > 0 {
			q += fmt.Sprintf(" LIMIT -1 OFFSET %d", offset)
			if s.d.name == BackendPostgres {
				q = strings.Replace(q, "LIMIT -1 ", "", 1)
			}
		}
		out, ids, err := s.queryMetadata(ctx, q, args)
		if err != nil {
			return nil, 0, err
		}
		for i := range out {
			if err := s.fillUpdated(ctx, ids[i], &out[i]); err != nil {
				return nil, 0, err
			}
		}
		return out, total, nil
	}
	// time-updated is computed from the data, so the time filter pages in Go.
	all, ids, err := s.queryMetadata(ctx, q, args)
	if err != nil {
		return nil, 0, err
	}
	var match []Metadata
	for i := range all {
		if err := s.fillUpdated(ctx, ids[i], &all[i]); err != nil {
			return nil, 0, err
		}
		if updatedMatch(&all[i], f) {
			match = append(match, all[i])
		}
	}
	total := len(match)
	if offset >= len(match) {
		return []Metadata{}, total, nil
	}
	match = match[offset:]
	if limit > 0 && len(match) > limit {
		match = match[:limit]
	}
	return match, total, nil
}

// updatedMatch reports whether one of m's event types (or summaries) that
// satisfies f's event-type, summary-type and summary-window filters has a
// time-updated in f.Updated: esmond's search puts these conditions on one
// event type row (a base row is summary-type base, window 0).
func updatedMatch(m *Metadata, f Filter) bool {
	for _, e := range m.EventTypes {
		if e.TimeUpdated == 0 || !f.Updated.contains(e.TimeUpdated) || (f.EventType != "" && e.Name != f.EventType) {
			continue
		}
		if (f.SummaryType == "" || f.SummaryType == SummaryBase) && (f.SummaryWindow == nil || *f.SummaryWindow == 0) {
			return true
		}
		for _, s := range e.Summaries {
			if (f.SummaryType == "" || s.Type == f.SummaryType) && (f.SummaryWindow == nil || s.Window == *f.SummaryWindow) {
				return true
			}
		}
	}
	return false
}

func (s *Store) queryMetadata(ctx context.Context, q string, args []any) ([]Metadata, []int64, error) {
	rows, err := s.db.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, nil, fmt.Errorf("archive: search: %w", err)
	}
	defer rows.Close()
	out := []Metadata{}
	var ids []int64
	for rows.Next() {
		id, m, err := scanMetadata(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("archive: search: %w", err)
		}
		out = append(out, m)
		ids = append(ids, id)
	}
	return out, ids, rows.Err()
}

// pingTypesMatch reports whether pingEventTypes satisfy the event type and
// summary filters of f.
func pingTypesMatch(f Filter) bool {
	for _, e := range pingEventTypes() {
		if f.EventType != "" && e.Name != f.EventType {
			continue
		}
		sums := append([]Summary{{Type: SummaryBase}}, e.Summaries...)
		for _, s := range sums {
			if (f.SummaryType == "" || s.Type == f.SummaryType) && (f.SummaryWindow == nil || s.Window == *f.SummaryWindow) {
				return true
			}
		}
	}
	return false
}
