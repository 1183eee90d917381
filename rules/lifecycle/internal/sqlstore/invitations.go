package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/connrules/connrules/rules/lifecycle"
)

// invCols are the columns invRow scans.
const invCols = `n, doc, status, delivery, closed_at, private, sender_withdrawn_at`

// invRow is an invitation row: its number (the id is "inv-<n>"), the
// immutable part as JSON, and the columns that change.
type invRow struct {
	n                int64
	doc              string
	status, delivery string
	closedAt         string
	private          int
	senderWithdrawn  string
}

func (r *invRow) scan(row interface{ Scan(...any) error }) error {
	return row.Scan(&r.n, &r.doc, &r.status, &r.delivery, &r.closedAt, &r.private, &r.senderWithdrawn)
}

func (r *invRow) invitation() (lifecycle.Invitation, error) {
	var d storedInv
	if err := json.Unmarshal([]byte(r.doc), &d); err != nil {
		return d.Invitation, fmt.Errorf("invitation %d: stored document: %w", r.n, err)
	}
	inv := d.Invitation
	inv.ID, inv.Status, inv.Delivery, inv.Private = invID(r.n), r.status, r.delivery, r.private != 0
	if d.Loc != "" {
		l, err := location(d.Loc)
		if err != nil {
			return inv, fmt.Errorf("invitation %d: %w", r.n, err)
		}
		inv.SentAt = inv.SentAt.In(l)
	}
	var err error
	if inv.ClosedAt, err = parseTime(r.closedAt); err != nil {
		return inv, fmt.Errorf("invitation %d: closed_at: %w", r.n, err)
	}
	if inv.SenderWithdrawnAt, err = parseTime(r.senderWithdrawn); err != nil {
		return inv, fmt.Errorf("invitation %d: sender_withdrawn_at: %w", r.n, err)
	}
	return inv, nil
}

func invID(n int64) string { return "inv-" + strconv.FormatInt(n, 10) }

// invNum parses "inv-<n>".
func invNum(id string) (int64, bool) {
	if !strings.HasPrefix(id, "inv-") {
		return 0, false
	}
	n, err := strconv.ParseInt(id[4:], 10, 64)
	return n, err == nil && n > 0 && invID(n) == id
}

// storedInv is the immutable part of an invitation as stored, with the
// name of its sending time's location.
type storedInv struct {
	lifecycle.Invitation
	Loc string `json:"sent_at_loc,omitempty"`
}

// invDoc is the document stored for inv: what never changes.
func invDoc(inv lifecycle.Invitation) (string, error) {
	inv.ID, inv.Status, inv.Delivery, inv.ClosedAt = "", "", "", time.Time{}
	inv.Private, inv.SenderWithdrawnAt = false, time.Time{}
	b, err := json.Marshal(storedInv{Invitation: inv, Loc: locName(inv.SentAt.Location())})
	return string(b), err
}

// Invitation implements [lifecycle.Store].
func (s *Store) Invitation(ctx context.Context, id string) (lifecycle.Invitation, error) {
	n, ok := invNum(id)
	if !ok {
		return lifecycle.Invitation{}, notFound("invitation", id)
	}
	var r invRow
	err := r.scan(s.b.QueryRow(ctx, `SELECT `+invCols+` FROM invitations WHERE n = ?`, n))
	if errors.Is(err, ErrNoRows) {
		return lifecycle.Invitation{}, notFound("invitation", id)
	}
	if err != nil {
		return lifecycle.Invitation{}, err
	}
	return r.invitation()
}

func readInvitations(ctx context.Context, q Q, sql string, args ...any) ([]lifecycle.Invitation, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return scanInvitations(rows)
}

// scanInvitations reads invCols rows and closes them.
func scanInvitations(rows Rows) ([]lifecycle.Invitation, error) {
	defer rows.Close()
	var out []lifecycle.Invitation
	for rows.Next() {
		var r invRow
		if err := r.scan(rows); err != nil {
			return nil, err
		}
		inv, err := r.invitation()
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

const pendingSQL = `SELECT ` + invCols + ` FROM invitations WHERE from_id = ? AND to_id = ? AND status = 'pending' ORDER BY n`

// Pending implements [lifecycle.Store].
func (s *Store) Pending(ctx context.Context, from, to string) ([]lifecycle.Invitation, error) {
	return readInvitations(ctx, s.b, pendingSQL, from, to)
}

// PendingSentBefore implements [lifecycle.Store].
func (s *Store) PendingSentBefore(ctx context.Context, t time.Time) ([]lifecycle.Invitation, error) {
	return readInvitations(ctx, s.b, `SELECT `+invCols+` FROM invitations WHERE status = 'pending' AND sent_ns < ? ORDER BY sent_ns, n`, t.UnixNano())
}

const sentBySQL = `SELECT ` + invCols + ` FROM invitations WHERE from_id = ? ORDER BY n`

// SentBy implements [lifecycle.Store]: one range of the (from_id, n) index.
func (s *Store) SentBy(ctx context.Context, from string) ([]lifecycle.Invitation, error) {
	return readInvitations(ctx, s.b, sentBySQL, from)
}

// hiddenSQL lists the pair's invitations closed out of the sender's sight
// and not withdrawn by them; its condition is the invitations_hidden
// index's, word for word, so SQLite uses that index.
const hiddenSQL = `SELECT ` + invCols + ` FROM invitations WHERE from_id = ? AND to_id = ?
	AND (status = 'ignored' OR private = 1) AND sender_withdrawn_at = '' ORDER BY n`

// UpdateInvitation implements [lifecycle.Store]: one conditional UPDATE.
func (s *Store) UpdateInvitation(ctx context.Context, inv lifecycle.Invitation, from string) (bool, error) {
	n, ok := invNum(inv.ID)
	if !ok {
		return false, notFound("invitation", inv.ID)
	}
	closed, err := timeText(inv.ClosedAt)
	if err != nil {
		return false, err
	}
	changed, err := s.b.Exec(ctx, `UPDATE invitations SET status = ?, delivery = ?, closed_at = ? WHERE n = ? AND status = ?`,
		inv.Status, inv.Delivery, closed, n, from)
	if err != nil || changed > 0 {
		return changed > 0, err
	}
	found, err := exists(ctx, s.b, `SELECT 1 FROM invitations WHERE n = ?`, n)
	if err == nil && !found {
		err = notFound("invitation", inv.ID)
	}
	return false, err
}
