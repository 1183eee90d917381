package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/connrules/connrules/rules/lifecycle"
)

// Store is a [lifecycle.Store] over a SQL backend.
type Store struct {
	b Backend
	// FailBeforeCommit, if set, runs inside Reserve's transaction after
	// its writes and before its commit, whatever the reservation counts;
	// an error it returns aborts the transaction. Tests use it to drop the connection mid-transaction.
	FailBeforeCommit func(ctx context.Context, q Q) error
}

// New returns a store over b, whose schema must be migrated (see [Migrate]).
func New(b Backend) *Store { return &Store{b: b} }

// Close closes the backend.
func (s *Store) Close() error { return s.b.Close() }

// Backend returns the store's backend, for tests and tools.
func (s *Store) Backend() Backend { return s.b }

func notFound(what, id string) error {
	return fmt.Errorf("%s %q: %w", what, id, lifecycle.ErrNotFound)
}

// memberCols are the columns memberRow scans, in order; the last is the
// member's connection count.
const memberCols = `m.id, m.doc, m.restricted_until, m.answered, m.accepted, m.version, m.seq, m.recv_seq, m.counters, m.over_start, m.over_n,
	(SELECT count(*) FROM conns c WHERE c.a = m.id)`

// memberRow is a member row as stored.
type memberRow struct {
	id, doc, restricted string
	answered, accepted  int
	version             int64
	seq, recvSeq        int64
	counters            string
	overStart, overN    int64
	conns               int
}

func (r *memberRow) scan(row interface{ Scan(...any) error }) error {
	return row.Scan(&r.id, &r.doc, &r.restricted, &r.answered, &r.accepted, &r.version, &r.seq, &r.recvSeq, &r.counters,
		&r.overStart, &r.overN, &r.conns)
}

// member decodes the row's document and overlays the columns the store
// updates in place.
func (r *memberRow) member() (lifecycle.Member, error) {
	var m lifecycle.Member
	if err := json.Unmarshal([]byte(r.doc), &m); err != nil {
		return m, fmt.Errorf("member %q: stored document: %w", r.id, err)
	}
	m.ID, m.Answered, m.Accepted, m.Version = r.id, r.answered, r.accepted, uint64(r.version)
	var err error
	if m.RestrictedUntil, err = parseTime(r.restricted); err != nil {
		return m, fmt.Errorf("member %q: restricted_until: %w", r.id, err)
	}
	return m, nil
}

func (r *memberRow) usage(w lifecycle.Windows) (lifecycle.Usage, error) {
	c, err := decodeCounters(r.counters)
	if err != nil {
		return lifecycle.Usage{}, fmt.Errorf("member %q: counters: %w", r.id, err)
	}
	u := c.usage(w)
	u.Seq, u.RecvSeq = uint64(r.seq), uint64(r.recvSeq)
	if r.overStart == w.Week.UnixNano() {
		u.OverLimit = int(r.overN)
	}
	return u, nil
}

// readMember reads one member by a condition on m (m.id = ? or m.email = ?).
func readMember(ctx context.Context, q Q, where string, arg any) (memberRow, bool, error) {
	var r memberRow
	err := r.scan(q.QueryRow(ctx, `SELECT `+memberCols+` FROM members m WHERE `+where+` ORDER BY m.id LIMIT 1`, arg))
	if errors.Is(err, ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}

// Member implements [lifecycle.Store].
func (s *Store) Member(ctx context.Context, id string) (lifecycle.Member, error) {
	r, ok, err := readMember(ctx, s.b, "m.id = ?", id)
	if err != nil || !ok {
		return lifecycle.Member{}, orNotFound(err, "member", id)
	}
	return r.member()
}

func orNotFound(err error, what, id string) error {
	if err != nil {
		return err
	}
	return notFound(what, id)
}

// MemberByEmail implements [lifecycle.Store].
func (s *Store) MemberByEmail(ctx context.Context, email string) (lifecycle.Member, error) {
	r, ok, err := readMember(ctx, s.b, "m.email = ?", strings.ToLower(email))
	if err != nil || !ok || email == "" {
		return lifecycle.Member{}, orNotFound(err, "member with email", email)
	}
	return r.member()
}

// PutMember implements [lifecycle.Store] in one statement. A new member
// is inserted whole, at version 1. An existing one gets its document and
// email replaced and its version bumped, while the columns only their own
// steps change (restriction, answer counts, counters) stay: with
// m.Version 0 by an upsert, otherwise by an UPDATE conditional on the
// stored version (a member that does not exist is at version 0).
func (s *Store) PutMember(ctx context.Context, m lifecycle.Member) error {
	restricted, err := timeText(m.RestrictedUntil)
	if err != nil {
		return err
	}
	want := m.Version
	m.Version = 0 // the column is the truth
	doc, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if want == 0 {
		_, err = s.b.Exec(ctx, `INSERT INTO members (id, email, doc, restricted_until, answered, accepted, version) VALUES (?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT (id) DO UPDATE SET email = excluded.email, doc = excluded.doc, version = members.version + 1`,
			m.ID, strings.ToLower(m.Email), string(doc), restricted, m.Answered, m.Accepted)
		return err
	}
	n, err := s.b.Exec(ctx, `UPDATE members SET email = ?, doc = ?, version = version + 1 WHERE id = ? AND version = ?`,
		strings.ToLower(m.Email), string(doc), m.ID, int64(want))
	if err == nil && n == 0 {
		err = fmt.Errorf("member %q: version %d is not the stored one: %w", m.ID, want, lifecycle.ErrConflict)
	}
	return err
}

// Restrict implements [lifecycle.Store].
func (s *Store) Restrict(ctx context.Context, id string, until time.Time) (time.Time, error) {
	var end time.Time
	err := s.b.Write(ctx, func(q Q) error {
		var cur string
		err := q.QueryRow(ctx, `SELECT restricted_until FROM members WHERE id = ?`+s.b.ForUpdate(), id).Scan(&cur)
		if errors.Is(err, ErrNoRows) {
			return notFound("member", id)
		}
		if err != nil {
			return err
		}
		if end, err = parseTime(cur); err != nil {
			return err
		}
		if !until.After(end) {
			return nil
		}
		end = until
		text, err := timeText(until)
		if err != nil {
			return err
		}
		_, err = q.Exec(ctx, `UPDATE members SET restricted_until = ? WHERE id = ?`, text, id)
		return err
	})
	return end, err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
