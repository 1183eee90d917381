package sqlstore

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/connrules/connrules/rules/lifecycle"
)

// loadBatch is the rows per INSERT of a bulk load: well under SQLite's
// limit of 32766 parameters.
const loadBatch = 500

// Load stores many members and connections in one transaction, with
// multi-row INSERTs: for seeding benchmarks and imports. It is
// PutMember and Connect for each, without a transaction per row.
func (s *Store) Load(ctx context.Context, members []lifecycle.Member, conns [][2]string) error {
	return s.b.Write(ctx, func(q Q) error {
		for i := 0; i < len(members); i += loadBatch {
			part := members[i:min(i+loadBatch, len(members))]
			args := make([]any, 0, 6*len(part))
			for _, m := range part {
				restricted, err := timeText(m.RestrictedUntil)
				if err != nil {
					return err
				}
				doc, err := json.Marshal(m)
				if err != nil {
					return err
				}
				args = append(args, m.ID, strings.ToLower(m.Email), string(doc), restricted, m.Answered, m.Accepted)
			}
			if _, err := q.Exec(ctx, `INSERT INTO members (id, email, doc, restricted_until, answered, accepted) VALUES `+
				rowsOf("(?, ?, ?, ?, ?, ?)", len(part))+` ON CONFLICT DO NOTHING`, args...); err != nil {
				return err
			}
		}
		for i := 0; i < len(conns); i += loadBatch {
			part := conns[i:min(i+loadBatch, len(conns))]
			args := make([]any, 0, 4*len(part))
			for _, c := range part {
				args = append(args, c[0], c[1], c[1], c[0])
			}
			if _, err := q.Exec(ctx, `INSERT INTO conns (a, b) VALUES `+rowsOf("(?, ?), (?, ?)", len(part))+` ON CONFLICT DO NOTHING`, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

func rowsOf(row string, n int) string {
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}
