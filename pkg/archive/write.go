package archive

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// PutMetadata registers m (after Normalize) and returns the stored record:
// the existing one, with created false, when the same metadata is already
// there — the same but for letter case too, as esmond's checksum compares
// (foldedKey; the existing record and its key are kept). Errors:
// *InputError for invalid metadata.
func (s *Store) PutMetadata(ctx context.Context, m Metadata) (Metadata, bool, error) {
	if err := m.Normalize(); err != nil {
		return Metadata{}, false, err
	}
	m.Derived = false
	m.Key = KeyOf(&m)
	if key, err := s.sameFolded(ctx, &m); err != nil {
		return Metadata{}, false, err
	} else if key != "" {
		out, err := s.Metadata(ctx, key)
		return out, false, err
	}
	var created bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		id, c, err := s.insertMetadata(ctx, tx, &m)
		_ = id
		created = c
		return err
	})
	if err != nil {
		return Metadata{}, false, err
	}
	out, err := s.Metadata(ctx, m.Key)
	return out, created, err
}

// sameFolded returns the key of a stored record that is m but for letter
// case (foldedKey), "" if there is none. Addresses are canonical and the
// subject type exact, so the candidates are those with m's addresses and
// tool-name and input-destination equal under SQL's LOWER (ASCII only in
// SQLite: names that differ in the case of other letters stay apart
// there), not every series of an agent and destination (TCP echo has one
// per client).
func (s *Store) sameFolded(ctx context.Context, m *Metadata) (string, error) {
	mds, _, err := s.queryMetadata(ctx, `SELECT `+metadataColumns+` FROM metadata
		WHERE subject_type = ? AND source = ? AND destination = ? AND agent = ?
		AND LOWER(tool_name) = LOWER(?) AND LOWER(input_destination) = LOWER(?) ORDER BY id`,
		[]any{m.SubjectType, m.Source, m.Destination, m.MeasurementAgent, m.ToolName, m.InputDestination})
	if err != nil {
		return "", err
	}
	want := foldedKey(m)
	for i := range mds {
		if mds[i].Key == m.Key || foldedKey(&mds[i]) == want {
			return mds[i].Key, nil
		}
	}
	return "", nil
}

// insertMetadata inserts m (normalised, keyed) unless its key exists, and
// returns its id.
func (s *Store) insertMetadata(ctx context.Context, tx *sql.Tx, m *Metadata) (int64, bool, error) {
	params := m.Parameters
	if params == nil {
		params = map[string]string{}
	}
	pj, _ := json.Marshal(params)
	ej, _ := json.Marshal(storedEventTypes(m.EventTypes))
	derived := 0
	if m.Derived {
		// pingapi's series all have pingEventTypes: not stored per series
		// (neither here nor in metadata_summary), 10,000s of them.
		derived, ej = 1, []byte("[]")
	}
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO metadata (mkey, subject_type, source, destination, agent,
		input_source, input_destination, tool_name, params, event_types, derived, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (mkey) DO NOTHING`),
		m.Key, m.SubjectType, m.Source, m.Destination, m.MeasurementAgent, m.InputSource,
		m.InputDestination, m.ToolName, string(pj), string(ej), derived, s.now().Unix())
	if err != nil {
		return 0, false, fmt.Errorf("archive: insert metadata: %w", err)
	}
	n, _ := res.RowsAffected()
	var id int64
	if err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM metadata WHERE mkey = ?`), m.Key).Scan(&id); err != nil {
		return 0, false, fmt.Errorf("archive: metadata id: %w", err)
	}
	if n == 0 {
		return id, false, nil
	}
	for _, e := range m.EventTypes {
		if m.Derived {
			break
		}
		rows := append([]Summary{{Type: SummaryBase}}, e.Summaries...)
		for _, su := range rows {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO metadata_summary (event_type, summary_type, summary_window, metadata_id)
				VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`), e.Name, su.Type, su.Window, id); err != nil {
				return 0, false, fmt.Errorf("archive: insert summary: %w", err)
			}
		}
	}
	for k, v := range params {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO metadata_param (name, value, metadata_id) VALUES (?, ?, ?)`), k, v, id); err != nil {
			return 0, false, fmt.Errorf("archive: insert parameter: %w", err)
		}
	}
	return id, true, nil
}

// storedEventType is the JSON form of an event type in metadata.event_types.
type storedEventType struct {
	Name      string          `json:"n"`
	Summaries []storedSummary `json:"s,omitempty"`
}

type storedSummary struct {
	Type   string `json:"t"`
	Window int64  `json:"w"`
}

func storedEventTypes(es []EventType) []storedEventType {
	out := make([]storedEventType, 0, len(es))
	for _, e := range es {
		se := storedEventType{Name: e.Name}
		for _, s := range e.Summaries {
			se.Summaries = append(se.Summaries, storedSummary{s.Type, s.Window})
		}
		out = append(out, se)
	}
	return out
}

// DataPoint is one value to write: TS in unix seconds (≥ 0), the event
// type, and the value parsed by ParseValue for that event type.
type DataPoint struct {
	TS        int64
	EventType string
	Val       Value
}

// AddPoints writes points into the metadata record key in one transaction:
// all are stored or none. A numeric point (integer, float, percentage) at
// a ts where one is already stored fails the whole call with ErrExists
// (HTTP 409); other types replace the stored value. Within one call a
// later point at the same event type and ts replaces an earlier one.
// ErrNotFound: no such key, or an event type the record did not register.
// *InputError: a pingapi series (clients cannot write into it), or a value
// of the wrong type.
func (s *Store) AddPoints(ctx context.Context, key string, pts []DataPoint) error {
	md, err := s.Metadata(ctx, key)
	if err != nil {
		return err
	}
	if md.Derived {
		return inputErrorf("metadata %s holds pingapi's own measurements; its data cannot be written", key)
	}
	type pk struct {
		et string
		ts int64
	}
	last := make(map[pk]int, len(pts))
	for i, p := range pts {
		if _, ok := md.EventType(p.EventType); !ok {
			return fmt.Errorf("%w: event type %q is not registered in metadata %s", ErrNotFound, p.EventType, key)
		}
		if t := eventTypes[p.EventType]; t != p.Val.Type {
			return inputErrorf("%s: value must be of type %s", p.EventType, t)
		}
		if p.TS < 0 {
			return inputErrorf("ts must not be negative")
		}
		last[pk{p.EventType, p.TS}] = i
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM metadata WHERE mkey = ?`), key).Scan(&id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return fmt.Errorf("archive: %w", err)
		}
		for i, p := range pts {
			if last[pk{p.EventType, p.TS}] != i {
				continue
			}
			if p.Val.Type.Numeric() {
				res, err := tx.ExecContext(ctx, s.q(`INSERT INTO point (metadata_id, event_type, ts, val) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`),
					id, p.EventType, p.TS, p.Val.storage())
				if err != nil {
					return fmt.Errorf("archive: insert point: %w", err)
				}
				if n, _ := res.RowsAffected(); n == 0 {
					return fmt.Errorf("%w: %s already has a value at ts %d", ErrExists, p.EventType, p.TS)
				}
				continue
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO point (metadata_id, event_type, ts, val) VALUES (?, ?, ?, ?)
				ON CONFLICT (metadata_id, event_type, ts) DO UPDATE SET val = excluded.val`),
				id, p.EventType, p.TS, p.Val.storage()); err != nil {
				return fmt.Errorf("archive: insert point: %w", err)
			}
		}
		return nil
	})
}

// DeleteMetadata deletes the metadata record key with all its data.
// ErrNotFound if there is none.
func (s *Store) DeleteMetadata(ctx context.Context, key string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM metadata WHERE mkey = ?`), key).Scan(&id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return fmt.Errorf("archive: %w", err)
		}
		for _, q := range []string{
			`DELETE FROM point WHERE metadata_id = ?`,
			`DELETE FROM measurement WHERE series = ?`,
			`DELETE FROM rollup WHERE series = ?`,
			`DELETE FROM metadata_summary WHERE metadata_id = ?`,
			`DELETE FROM metadata_param WHERE metadata_id = ?`,
			`DELETE FROM metadata WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, s.q(q), id); err != nil {
				return fmt.Errorf("archive: delete: %w", err)
			}
		}
		return nil
	})
	if err == nil {
		s.mu.Lock()
		delete(s.series, key)
		for id, k := range s.keys {
			if k == key {
				delete(s.keys, id)
			}
		}
		s.mu.Unlock()
	}
	return err
}
