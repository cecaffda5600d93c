package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// APIKey is an archive write key ("Authorization: Token <key>"). The store
// keeps only its hash; hashing is the caller's (pkg/auth).
type APIKey struct {
	Name    string
	Hash    string
	Created time.Time
	Revoked time.Time // zero while the key is valid
}

// CreateAPIKey stores a new key. ErrExists if the name or hash is taken.
func (s *Store) CreateAPIKey(ctx context.Context, name, hash string) error {
	if name == "" || hash == "" {
		return inputErrorf("a key needs a name and a hash")
	}
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO archive_key (name, hash, created) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
		name, hash, s.now().Unix())
	if err != nil {
		return fmt.Errorf("archive: create key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: key %q", ErrExists, name)
	}
	return nil
}

// APIKeys lists every key, revoked ones too, by name.
func (s *Store) APIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, hash, created, revoked FROM archive_key ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("archive: keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey marks the key name revoked (kept for the record).
// ErrNotFound if there is no valid key of that name.
func (s *Store) RevokeAPIKey(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE archive_key SET revoked = ? WHERE name = ? AND revoked IS NULL`), s.now().Unix(), name)
	if err != nil {
		return fmt.Errorf("archive: revoke key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: key %q", ErrNotFound, name)
	}
	return nil
}

// APIKeyByHash returns the key with this hash, revoked or not (check
// Revoked). ErrNotFound if there is none.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (APIKey, error) {
	k, err := scanKey(s.db.QueryRowContext(ctx, s.q(`SELECT name, hash, created, revoked FROM archive_key WHERE hash = ?`), hash))
	if errors.Is(err, sql.ErrNoRows) {
		return APIKey{}, ErrNotFound
	}
	return k, err
}

func scanKey(sc interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var created int64
	var revoked sql.NullInt64
	if err := sc.Scan(&k.Name, &k.Hash, &created, &revoked); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return k, err
		}
		return k, fmt.Errorf("archive: key: %w", err)
	}
	k.Created = time.Unix(created, 0).UTC()
	if revoked.Valid {
		k.Revoked = time.Unix(revoked.Int64, 0).UTC()
	}
	return k, nil
}
