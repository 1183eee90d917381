package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/internal/sorted"
)

// Connect implements [lifecycle.Store]: one INSERT of both directions,
// so a member's connections are one index range. Like MemStore's, a
// direct connection checks no cap: it seeds a network.
func (s *Store) Connect(ctx context.Context, a, b string) error {
	if a == b {
		return fmt.Errorf("connect %q to itself", a)
	}
	_, err := s.b.Exec(ctx, `INSERT INTO conns (a, b) VALUES (?, ?), (?, ?) ON CONFLICT DO NOTHING`, a, b, b, a)
	return err
}

// lockMembers locks the member rows of ids, in id order so that two
// transactions locking the same pair cannot deadlock.
func lockMembers(ctx context.Context, q Q, forUpdate string, a, b string) error {
	if forUpdate == "" {
		return nil
	}
	rows, err := q.Query(ctx, `SELECT id FROM members WHERE id IN (?, ?) ORDER BY id`+forUpdate, a, b)
	if err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

// Disconnect implements [lifecycle.Store].
func (s *Store) Disconnect(ctx context.Context, a, b string) (bool, error) {
	n, err := s.b.Exec(ctx, `DELETE FROM conns WHERE (a = ? AND b = ?) OR (a = ? AND b = ?)`, a, b, b, a)
	return n > 0, err
}

// ConnectionCount implements [lifecycle.Store].
func (s *Store) ConnectionCount(ctx context.Context, id string) (int, error) {
	var n int
	err := s.b.QueryRow(ctx, `SELECT count(*) FROM conns WHERE a = ?`, id).Scan(&n)
	return n, err
}

// Relation implements [lifecycle.Store].
func (s *Store) Relation(ctx context.Context, a, b string, budget int) (degree, mutual int, err error) {
	err = s.b.Read(ctx, func(q Q) error {
		degree, mutual, err = relation(ctx, q, a, b, budget)
		return err
	})
	return degree, mutual, err
}

// relation is MemStore's bounded search over adjacency read in the
// caller's transaction: both adjacency lists in one query, their
// intersection for the mutual count, and, only when there is no mutual
// connection, one query for the connections of the smaller side's
// connections, limited to what is left of the budget, checked against the
// larger side's list.
func relation(ctx context.Context, q Q, a, b string, budget int) (degree, mutual int, err error) {
	if a == b {
		return 0, 0, nil
	}
	rows, err := q.Query(ctx, adjacencySQL, a, b)
	if err != nil {
		return 0, 0, err
	}
	A, B, err := adjacency(rows, a)
	if err != nil {
		return 0, 0, err
	}
	return relationOf(ctx, q, a, b, A, B, budget)
}

const adjacencySQL = `SELECT a, b FROM conns WHERE a IN (?, ?)`

// adjacency reads adjacencySQL's rows into a's and the other's lists,
// sorted bytewise whatever the database's collation.
func adjacency(rows Rows, a string) (A, B []string, err error) {
	defer rows.Close()
	for rows.Next() {
		var x, y string
		if err := rows.Scan(&x, &y); err != nil {
			return nil, nil, err
		}
		if x == a {
			A = append(A, y)
		} else {
			B = append(B, y)
		}
	}
	slices.Sort(A)
	slices.Sort(B)
	return A, B, rows.Err()
}

// relationOf finishes the search from the two adjacency lists; q runs
// the degree-3 query if one is needed.
func relationOf(ctx context.Context, q Q, a, b string, A, B []string, budget int) (degree, mutual int, err error) {
	if a == b {
		return 0, 0, nil
	}
	mutual, cost := sorted.IntersectCount(A, B)
	budget -= cost
	if _, connected := slices.BinarySearch(A, b); connected {
		return 1, mutual, nil
	}
	if mutual > 0 {
		return 2, mutual, nil
	}
	small := a
	if len(A) > len(B) {
		A, B, small = B, A, b
	}
	budget -= len(B)
	if len(A) == 0 || budget <= 0 {
		return 0, 0, nil
	}
	rows, err := q.Query(ctx, `SELECT c2.b FROM conns c1 JOIN conns c2 ON c2.a = c1.b WHERE c1.a = ? LIMIT ?`, small, budget)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var z string
		if err := rows.Scan(&z); err != nil {
			return 0, 0, err
		}
		if _, ok := slices.BinarySearch(B, z); ok {
			return 3, 0, nil
		}
	}
	return 0, 0, rows.Err()
}

// AddContacts implements [lifecycle.Store].
func (s *Store) AddContacts(ctx context.Context, owner string, emails []string) error {
	return s.b.Write(ctx, func(q Q) error {
		for _, e := range emails {
			if _, err := q.Exec(ctx, `INSERT INTO contacts (owner, email) VALUES (?, ?) ON CONFLICT DO NOTHING`, owner, strings.ToLower(e)); err != nil {
				return err
			}
		}
		return nil
	})
}

// HasContact implements [lifecycle.Store].
func (s *Store) HasContact(ctx context.Context, owner, email string) (bool, error) {
	if email == "" {
		return false, nil
	}
	return exists(ctx, s.b, `SELECT 1 FROM contacts WHERE owner = ? AND email = ?`, owner, strings.ToLower(email))
}

func exists(ctx context.Context, q Q, sql string, args ...any) (bool, error) {
	var one int
	err := q.QueryRow(ctx, sql, args...).Scan(&one)
	if errors.Is(err, ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// SetBlock implements [lifecycle.Store]. A block bumps both members' Seq,
// so an invitation decided before the block cannot commit after it. It
// locks the two members' rows first, in id order like Reserve, so the
// two cannot deadlock.
func (s *Store) SetBlock(ctx context.Context, blocker, blocked string, on bool) error {
	return s.b.Write(ctx, func(q Q) error {
		if err := lockMembers(ctx, q, s.b.ForUpdate(), blocker, blocked); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `INSERT INTO pairs (from_id, to_id, blocked) VALUES (?, ?, ?)
			ON CONFLICT (from_id, to_id) DO UPDATE SET blocked = excluded.blocked`, blocker, blocked, b2i(on)); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `UPDATE members SET seq = seq + 1 WHERE id IN (?, ?)`, blocker, blocked)
		return err
	})
}

// Blocked implements [lifecycle.Store].
func (s *Store) Blocked(ctx context.Context, a, b string) (bool, error) {
	return exists(ctx, s.b, `SELECT 1 FROM pairs WHERE blocked = 1 AND ((from_id = ? AND to_id = ?) OR (from_id = ? AND to_id = ?))`, a, b, b, a)
}

// Pair implements [lifecycle.Store].
func (s *Store) Pair(ctx context.Context, from, to string) (lifecycle.PairRecord, error) {
	return readPair(ctx, s.b, from, to, "")
}

func readPair(ctx context.Context, q Q, from, to, forUpdate string) (lifecycle.PairRecord, error) {
	var rec lifecycle.PairRecord
	var doc string
	err := q.QueryRow(ctx, `SELECT rec FROM pairs WHERE from_id = ? AND to_id = ?`+forUpdate, from, to).Scan(&doc)
	if errors.Is(err, ErrNoRows) {
		return rec, nil
	}
	if err != nil {
		return rec, err
	}
	return rec, decodeDoc(doc, &rec)
}

func decodeDoc(doc string, v any) error {
	if doc == "" || doc == "{}" {
		return nil
	}
	return json.Unmarshal([]byte(doc), v)
}
