package sqlstore

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/connrules/connrules/rules/lifecycle"
)

// CloseInvitation implements [lifecycle.Store]. In one transaction it
// locks the invitation's row, checks its status and that the sender has
// not withdrawn it, writes the close with an UPDATE conditional on both,
// then rewrites the pair record under its row's lock and bumps the
// sender's Seq (and answer count). Locks are taken invitation, pair,
// member, the order SetBlock and AcceptInvitation also follow.
func (s *Store) CloseInvitation(ctx context.Context, c lifecycle.Closing) (lifecycle.Invitation, bool, error) {
	n, ok := invNum(c.ID)
	if !ok {
		return lifecycle.Invitation{}, false, notFound("invitation", c.ID)
	}
	at, err := timeText(c.At)
	if err != nil {
		return lifecycle.Invitation{}, false, err
	}
	var stored lifecycle.Invitation
	applied := false
	err = s.b.Write(ctx, func(q Q) error {
		applied = false
		var r invRow
		err := r.scan(q.QueryRow(ctx, `SELECT `+invCols+` FROM invitations WHERE n = ?`+s.b.ForUpdate(), n))
		if errors.Is(err, ErrNoRows) {
			return notFound("invitation", c.ID)
		}
		if err != nil {
			return err
		}
		if stored, err = r.invitation(); err != nil {
			return err
		}
		if stored.Status != c.From || !stored.SenderWithdrawnAt.IsZero() {
			return nil // nothing to write: the caller gets the stored invitation
		}
		if c.SenderWithdrew {
			err = conditional(q.Exec(ctx, `UPDATE invitations SET sender_withdrawn_at = ? WHERE n = ? AND status = ? AND sender_withdrawn_at = ''`,
				at, n, c.From))
		} else {
			err = conditional(q.Exec(ctx, `UPDATE invitations SET status = ?, closed_at = ?, private = ? WHERE n = ? AND status = ? AND sender_withdrawn_at = ''`,
				c.Status, at, b2i(c.Private), n, c.From))
		}
		if err != nil {
			return err
		}
		if c.Ignore || c.Reject || c.Withdraw {
			if err := s.closePair(ctx, q, stored.From, stored.To, c); err != nil {
				return err
			}
		}
		if _, err := q.Exec(ctx, `UPDATE members SET seq = seq + 1, answered = answered + ? WHERE id = ?`, b2i(c.Answered), stored.From); err != nil {
			return err
		}
		if c.SenderWithdrew {
			stored.SenderWithdrawnAt = c.At
		} else {
			stored.Status, stored.ClosedAt, stored.Private = c.Status, c.At, c.Private
		}
		applied = true
		return nil
	})
	if errors.Is(err, errConflict) { // the row changed under a backend without row locks
		return s.closeRefused(ctx, c.ID)
	}
	if err != nil {
		return lifecycle.Invitation{}, false, err
	}
	return stored, applied, nil
}

// closeRefused reads the invitation a conditional close did not apply to.
func (s *Store) closeRefused(ctx context.Context, id string) (lifecycle.Invitation, bool, error) {
	inv, err := s.Invitation(ctx, id)
	return inv, false, err
}

// closePair applies the closing's changes to the pair record, read under
// its row's lock (a new row is inserted first so there is one to lock).
func (s *Store) closePair(ctx context.Context, q Q, from, to string, c lifecycle.Closing) error {
	if _, err := q.Exec(ctx, `INSERT INTO pairs (from_id, to_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, from, to); err != nil {
		return err
	}
	rec, err := readPair(ctx, q, from, to, s.b.ForUpdate())
	if err != nil {
		return err
	}
	if c.Ignore {
		rec.Ignored++
		rec.LastIgnoredAt = c.At
	}
	if c.Reject {
		rec.Rejected = true
	}
	if c.Withdraw {
		rec.WithdrawnAt = c.At
	}
	doc, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `UPDATE pairs SET rec = ? WHERE from_id = ? AND to_id = ?`, string(doc), from, to)
	return err
}
