package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/connrules/connrules/rules/lifecycle"
)

// Usage implements [lifecycle.Store].
func (s *Store) Usage(ctx context.Context, id string, w lifecycle.Windows) (lifecycle.Usage, error) {
	r, ok, err := readMember(ctx, s.b, "m.id = ?", id)
	if err != nil || !ok {
		return lifecycle.Usage{}, orNotFound(err, "member", id)
	}
	return r.usage(w)
}

// quotaRow is what Reserve reads of a member under its lock.
type quotaRow struct {
	seq, recvSeq int64
	counters     string
}

// Reserve implements [lifecycle.Store]. In one transaction it locks the
// sender's and the recipient's rows (in id order), checks Seq and RecvSeq
// and that no counter it increments holds a later window, writes the new counters with UPDATEs conditional on the versions read,
// and inserts the invitation. A version that moved rolls everything back
// and returns false.
func (s *Store) Reserve(ctx context.Context, r lifecycle.Reservation) (lifecycle.Invitation, bool, error) {
	inv := r.Invitation
	doc, err := invDoc(inv)
	if err != nil {
		return inv, false, err
	}
	closed, err := timeText(inv.ClosedAt)
	if err != nil {
		return inv, false, err
	}
	var stored lifecycle.Invitation
	err = s.b.Write(ctx, func(q Q) error {
		rows, err := q.Query(ctx, `SELECT id, seq, recv_seq, counters FROM members WHERE id IN (?, ?) ORDER BY id`+s.b.ForUpdate(), inv.From, inv.To)
		if err != nil {
			return err
		}
		got := map[string]*quotaRow{}
		for rows.Next() {
			var id string
			var qr quotaRow
			if err := rows.Scan(&id, &qr.seq, &qr.recvSeq, &qr.counters); err != nil {
				rows.Close()
				return err
			}
			got[id] = &qr
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		sr, ok := got[inv.From]
		if !ok {
			return notFound("member", inv.From)
		}
		rr, rok := got[inv.To]
		if sr.seq != int64(r.Seq) || r.Received && rok && rr.recvSeq != int64(r.RecipientSeq) {
			return errConflict
		}
		sc, err := decodeCounters(sr.counters)
		if err != nil {
			return fmt.Errorf("member %q: counters: %w", inv.From, err)
		}
		var rc counters
		if r.Received && rok {
			if rc, err = decodeCounters(rr.counters); err != nil {
				return fmt.Errorf("member %q: counters: %w", inv.To, err)
			}
		}
		if sc.Sent.ahead(r.Windows) || r.Received && rok && rc.Recv.ahead(r.Windows) {
			return errConflict // counters never go back: the decision is stale
		}
		sc.Sent.add(r.Windows)
		recv := r.Received && rok
		self := recv && inv.To == inv.From // one row holds both counts
		recvSeq := sr.recvSeq
		if self {
			sc.Recv.add(r.Windows)
			recvSeq++
		}
		if err := reserveWrite(ctx, q, inv, doc, closed, sr, sc, recvSeq, &stored); err != nil {
			return err
		}
		if recv && !self {
			rc.Recv.add(r.Windows)
			if err := conditional(q.Exec(ctx, `UPDATE members SET recv_seq = recv_seq + 1, counters = ? WHERE id = ? AND recv_seq = ?`,
				rc.encode(), inv.To, rr.recvSeq)); err != nil {
				return err
			}
		}
		if s.FailBeforeCommit != nil { // on every path that commits
			return s.FailBeforeCommit(ctx, q)
		}
		return nil
	})
	if errors.Is(err, errConflict) {
		return lifecycle.Invitation{}, false, nil
	}
	if err != nil {
		return lifecycle.Invitation{}, false, err
	}
	return stored, true, nil
}

// reserveWrite bumps the sender's Seq and writes its counters, conditional
// on the Seq read, and stores the invitation.
func reserveWrite(ctx context.Context, q Q, inv lifecycle.Invitation, doc, closed string, sr *quotaRow, sc counters, recvSeq int64, stored *lifecycle.Invitation) error {
	if err := conditional(q.Exec(ctx, `UPDATE members SET seq = seq + 1, recv_seq = ?, counters = ? WHERE id = ? AND seq = ?`,
		recvSeq, sc.encode(), inv.From, sr.seq)); err != nil {
		return err
	}
	var n int64
	withdrawn, err := timeText(inv.SenderWithdrawnAt)
	if err != nil {
		return err
	}
	if err := q.QueryRow(ctx, `INSERT INTO invitations (from_id, to_id, status, delivery, closed_at, private, sender_withdrawn_at, sent_ns, doc)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING n`, inv.From, inv.To, inv.Status, inv.Delivery, closed, b2i(inv.Private), withdrawn,
		inv.SentAt.UnixNano(), doc).Scan(&n); err != nil {
		return err
	}
	*stored = inv
	stored.ID = invID(n)
	return nil
}

// conditional turns a conditional write that changed no row into
// errConflict.
func conditional(n int64, err error) error {
	if err == nil && n == 0 {
		return errConflict
	}
	return err
}

// AcceptInvitation implements [lifecycle.Store]. In one transaction it
// locks the invitation's row and both members' rows, checks the status and
// both connection counts, then closes the invitation (conditional on it
// being pending), connects the two and counts the accepted answer, bumping the sender's Seq.
func (s *Store) AcceptInvitation(ctx context.Context, a lifecycle.Acceptance) (bool, error) {
	n, ok := invNum(a.Invitation.ID)
	if !ok {
		return false, notFound("invitation", a.Invitation.ID)
	}
	closed, err := timeText(a.Invitation.ClosedAt)
	if err != nil {
		return false, err
	}
	err = s.b.Write(ctx, func(q Q) error {
		var from, to, status string
		err := q.QueryRow(ctx, `SELECT from_id, to_id, status FROM invitations WHERE n = ?`+s.b.ForUpdate(), n).Scan(&from, &to, &status)
		if errors.Is(err, ErrNoRows) {
			return notFound("invitation", a.Invitation.ID)
		}
		if err != nil {
			return err
		}
		if status != lifecycle.StatusPending {
			return fmt.Errorf("invitation %s (%s): %w", a.Invitation.ID, status, lifecycle.ErrNotPending)
		}
		if err := lockMembers(ctx, q, s.b.ForUpdate(), from, to); err != nil {
			return err
		}
		var sc, rc int
		if err := q.QueryRow(ctx, `SELECT (SELECT count(*) FROM conns WHERE a = ?), (SELECT count(*) FROM conns WHERE a = ?)`, from, to).Scan(&sc, &rc); err != nil {
			return err
		}
		if sc != a.SenderConnections || rc != a.RecipientConnections {
			return errConflict
		}
		if err := conditional(q.Exec(ctx, `UPDATE invitations SET status = ?, delivery = ?, closed_at = ? WHERE n = ? AND status = 'pending'`,
			a.Invitation.Status, a.Invitation.Delivery, closed, n)); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `INSERT INTO conns (a, b) VALUES (?, ?), (?, ?) ON CONFLICT DO NOTHING`, from, to, to, from); err != nil {
			return err
		}
		_, err = q.Exec(ctx, `UPDATE members SET answered = answered + 1, accepted = accepted + 1, seq = seq + 1 WHERE id = ?`, from)
		return err
	})
	if errors.Is(err, errConflict) {
		return false, nil
	}
	return err == nil, err
}

// CountOverLimit implements [lifecycle.Store]: one UPDATE conditional on
// the Seq and on the counter holding no later week.
func (s *Store) CountOverLimit(ctx context.Context, id string, seq uint64, w lifecycle.Windows) (bool, error) {
	week := w.Week.UnixNano()
	n, err := s.b.Exec(ctx, `UPDATE members SET seq = seq + 1,
		over_n = CASE WHEN over_start = ? THEN over_n + 1 ELSE 1 END, over_start = ?
		WHERE id = ? AND seq = ? AND NOT (over_n > 0 AND over_start > ?)`, week, week, id, int64(seq), week)
	if err != nil || n > 0 {
		return n > 0, err
	}
	found, err := exists(ctx, s.b, `SELECT 1 FROM members WHERE id = ?`, id)
	if err == nil && !found {
		err = notFound("member", id)
	}
	return false, err
}
