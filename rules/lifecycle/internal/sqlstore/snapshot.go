package sqlstore

import (
	"context"
	"strings"

	"github.com/connrules/connrules/rules/lifecycle"
)

// Snapshot implements [lifecycle.Store]: one read transaction of six
// queries at most (sender, recipient, both adjacency lists, contacts, the
// pair's rows both ways, pending invitations) plus one for a degree-3
// search when the two have no mutual connection.
func (s *Store) Snapshot(ctx context.Context, q lifecycle.SnapshotQuery) (lifecycle.Snapshot, error) {
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
	if snap.Degree, snap.Mutual, err = relation(ctx, tx, from, to, q.Budget); err != nil {
		return err
	}
	if err := contactFacts(ctx, tx, snap); err != nil {
		return err
	}
	if err := pairFacts(ctx, tx, from, to, snap); err != nil {
		return err
	}
	snap.Pending, err = readInvitations(ctx, tx, pendingSQL, from, to)
	return err
}

// contactFacts reads both contact facts in one query.
func contactFacts(ctx context.Context, tx Q, snap *lifecycle.Snapshot) error {
	se, re := strings.ToLower(snap.Sender.Email), strings.ToLower(snap.Recipient.Email)
	if se == "" && re == "" {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT owner FROM contacts WHERE (owner = ? AND email = ?) OR (owner = ? AND email = ?)`,
		snap.Sender.ID, re, snap.Recipient.ID, se)
	if err != nil {
		return err
	}
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
	rows, err := tx.Query(ctx, `SELECT from_id, blocked, rec FROM pairs WHERE (from_id = ? AND to_id = ?) OR (from_id = ? AND to_id = ?)`,
		from, to, to, from)
	if err != nil {
		return err
	}
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
