package sqlstore

import (
	"context"
	"strings"

	"github.com/connrules/connrules/rules/lifecycle"
)

// Snapshot implements [lifecycle.Store]: one read transaction of seven
// queries at most (sender, recipient, both adjacency lists, contacts, the
// pair's rows both ways, pending and hidden invitations) plus one for a degree-3
// search when the two have no mutual connection.
func (s *Store) Snapshot(ctx context.Context, q lifecycle.SnapshotQuery) (lifecycle.Snapshot, error) {
	if p, ok := s.b.(Pipeliner); ok && q.Email == "" && q.To != "" {
		return s.pipelinedSnapshot(ctx, p, q)
	}
	var snap lifecycle.Snapshot
	err := s.b.Read(ctx, func(tx Q) error {
		snap = lifecycle.Snapshot{}
		return snapshot(ctx, tx, q, &snap)
	})
	return snap, err
}

func snapshot(ctx context.Context, tx Q, q lifecycle.SnapshotQuery, snap *lifecycle.Snapshot) error {
	sr, ok, err := readMember(ctx, tx, "m.id = ?", q.From)
	if err != nil || !ok {
		return orNotFound(err, "member", q.From)
	}
	if snap.Sender, err = sr.member(); err != nil {
		return err
	}
	if snap.SenderUsage, err = sr.usage(q.Windows); err != nil {
		return err
	}
	snap.SenderConnections = sr.conns
	var rr memberRow
	switch {
	case q.Email != "":
		rr, ok, err = readMember(ctx, tx, "m.email = ?", strings.ToLower(q.Email))
	case q.To != "":
		rr, ok, err = readMember(ctx, tx, "m.id = ?", q.To)
	default:
		ok = false
	}
	if err != nil || !ok {
		return err
	}
	snap.RecipientFound = true
	if snap.Recipient, err = rr.member(); err != nil {
		return err
	}
	if snap.RecipientUsage, err = rr.usage(q.Windows); err != nil {
		return err
	}
	snap.RecipientConnections = rr.conns
	from, to := sr.id, rr.id
	se, re := strings.ToLower(snap.Sender.Email), strings.ToLower(snap.Recipient.Email)
	if snap.Degree, snap.Mutual, err = relation(ctx, tx, from, to, q.Budget); err != nil {
		return err
	}
	if err := contactFacts(ctx, tx, snap, se, re); err != nil {
		return err
	}
	if err := pairFacts(ctx, tx, from, to, snap); err != nil {
		return err
	}
	if snap.Pending, err = readInvitations(ctx, tx, pendingSQL, from, to); err != nil {
		return err
	}
	snap.Hidden, err = readInvitations(ctx, tx, hiddenSQL, from, to)
	return err
}

// contactFacts reads both contact facts in one query.
func contactFacts(ctx context.Context, tx Q, snap *lifecycle.Snapshot, se, re string) error {
	if se == "" && re == "" {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT owner FROM contacts WHERE (owner = ? AND email = ?) OR (owner = ? AND email = ?)`,
		snap.Sender.ID, re, snap.Recipient.ID, se)
	if err != nil {
		return err
	}
	return scanContacts(rows, snap, se, re)
}

// scanContacts reads the owners of matching contacts.
func scanContacts(rows Rows, snap *lifecycle.Snapshot, se, re string) error {
	defer rows.Close()
	for rows.Next() {
		var owner string
		if err := rows.Scan(&owner); err != nil {
			return err
		}
		if owner == snap.Sender.ID && re != "" {
			snap.SenderHasContact = true
		}
		if owner == snap.Recipient.ID && se != "" {
			snap.RecipientHasContact = true
		}
	}
	return rows.Err()
}

// pairFacts reads the pair's rows both ways: the blocks and the record.
func pairFacts(ctx context.Context, tx Q, from, to string, snap *lifecycle.Snapshot) error {
	rows, err := tx.Query(ctx, pairsSQL, from, to, to, from)
	if err != nil {
		return err
	}
	return scanPairs(rows, from, snap)
}

const pairsSQL = `SELECT from_id, blocked, rec FROM pairs WHERE (from_id = ? AND to_id = ?) OR (from_id = ? AND to_id = ?)`

// scanPairs reads the pair's rows both ways: the blocks and the record.
func scanPairs(rows Rows, from string, snap *lifecycle.Snapshot) error {
	defer rows.Close()
	for rows.Next() {
		var f, doc string
		var blocked int
		if err := rows.Scan(&f, &blocked, &doc); err != nil {
			return err
		}
		snap.Blocked = snap.Blocked || blocked != 0
		if f == from {
			if err := decodeDoc(doc, &snap.Pair); err != nil {
				return err
			}
		}
	}
	return rows.Err()
}

// pipelinedSnapshot reads the snapshot of two members known by id in one
// round trip: the seven reads go out together in one read transaction, the
// contact facts comparing against the members' emails in SQL. Only a
// degree-3 search, when the two have no mutual connection, takes a second
// round trip.
func (s *Store) pipelinedSnapshot(ctx context.Context, p Pipeliner, q lifecycle.SnapshotQuery) (lifecycle.Snapshot, error) {
	var snap lifecycle.Snapshot
	var sr, rr memberRow
	var sok, rok bool
	var A, B, owners []string
	var pairs lifecycle.Snapshot // Blocked and Pair, read before the emails are known
	one := func(r *memberRow, ok *bool) func(Rows) error {
		return func(rows Rows) error {
			if rows.Next() {
				*ok = true
				if err := r.scan(rows); err != nil {
					return err
				}
			}
			return rows.Err()
		}
	}
	err := p.Pipeline(ctx, []Pipelined{
		{SQL: `SELECT ` + memberCols + ` FROM members m WHERE m.id = ?`, Args: []any{q.From}, Scan: one(&sr, &sok)},
		{SQL: `SELECT ` + memberCols + ` FROM members m WHERE m.id = ?`, Args: []any{q.To}, Scan: one(&rr, &rok)},
		{SQL: adjacencySQL, Args: []any{q.From, q.To}, Scan: func(rows Rows) (err error) {
			A, B, err = adjacency(rows, q.From)
			return err
		}},
		{SQL: `SELECT c.owner FROM contacts c WHERE c.email <> '' AND (
				(c.owner = ? AND c.email = (SELECT email FROM members WHERE id = ?)) OR
				(c.owner = ? AND c.email = (SELECT email FROM members WHERE id = ?)))`,
			Args: []any{q.From, q.To, q.To, q.From}, Scan: func(rows Rows) error {
				for rows.Next() {
					var o string
					if err := rows.Scan(&o); err != nil {
						return err
					}
					owners = append(owners, o)
				}
				return rows.Err()
			}},
		{SQL: pairsSQL, Args: []any{q.From, q.To, q.To, q.From}, Scan: func(rows Rows) error { return scanPairs(rows, q.From, &pairs) }},
		{SQL: pendingSQL, Args: []any{q.From, q.To}, Scan: func(rows Rows) (err error) {
			snap.Pending, err = scanInvitations(rows)
			return err
		}},
		{SQL: hiddenSQL, Args: []any{q.From, q.To}, Scan: func(rows Rows) (err error) {
			snap.Hidden, err = scanInvitations(rows)
			return err
		}},
	})
	if err != nil {
		return lifecycle.Snapshot{}, err
	}
	if !sok {
		return lifecycle.Snapshot{}, notFound("member", q.From)
	}
	if snap.Sender, err = sr.member(); err != nil {
		return snap, err
	}
	if snap.SenderUsage, err = sr.usage(q.Windows); err != nil {
		return snap, err
	}
	snap.SenderConnections = sr.conns
	if !rok {
		return lifecycle.Snapshot{Sender: snap.Sender, SenderUsage: snap.SenderUsage, SenderConnections: snap.SenderConnections}, nil
	}
	snap.RecipientFound = true
	if snap.Recipient, err = rr.member(); err != nil {
		return snap, err
	}
	if snap.RecipientUsage, err = rr.usage(q.Windows); err != nil {
		return snap, err
	}
	snap.RecipientConnections = rr.conns
	if snap.Degree, snap.Mutual, err = relationOf(ctx, s.b, q.From, q.To, A, B, q.Budget); err != nil {
		return snap, err
	}
	for _, o := range owners {
		snap.SenderHasContact = snap.SenderHasContact || o == q.From
		snap.RecipientHasContact = snap.RecipientHasContact || o == q.To
	}
	snap.Blocked, snap.Pair = pairs.Blocked, pairs.Pair
	return snap, nil
}
