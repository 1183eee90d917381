package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// ErrSchemaTooNew is returned (wrapped) when a database was written by a
// newer version of connrules than this one.
var ErrSchemaTooNew = errors.New("database schema is newer than this connrules")

// Migration is one versioned SQL file: NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations reads the NNNN_name.sql files of dir in fsys, in version
// order.
func Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range ents {
		num, name, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %s: want NNNN_name.sql", e.Name())
		}
		src, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(name, ".sql"), SQL: string(src)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: versions must be 1, 2, 3... without gaps", m.Version, m.Name)
		}
	}
	return out, nil
}

// SchemaTable records the applied migrations.
const SchemaTable = "connrules_schema"

// Version reads the database's schema version: 0 when it has none.
func Version(ctx context.Context, q Q) (int, error) {
	var v int
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+SchemaTable).Scan(&v)
	if err != nil && isMissingTable(err) {
		return 0, nil
	}
	return v, err
}

func isMissingTable(err error) bool {
	s := err.Error()
	return strings.Contains(s, "no such table") || strings.Contains(s, "does not exist")
}

// Migrate applies the migrations the database lacks, each in its own
// transaction together with its row in the schema table. lock, if not
// empty, is run first in each transaction to keep concurrent openers
// apart (PostgreSQL's advisory lock). A database whose version is newer
// than the last migration fails with ErrSchemaTooNew before anything is
// written.
func Migrate(ctx context.Context, b Backend, ms []Migration, lock string) error {
	v, err := Version(ctx, b)
	if err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if v > len(ms) {
		return fmt.Errorf("%w: it is at version %d, this build knows versions up to %d; use a newer connrules or another database",
			ErrSchemaTooNew, v, len(ms))
	}
	if v == len(ms) {
		return nil
	}
	return b.Write(ctx, func(q Q) error {
		if lock != "" {
			if _, err := q.Exec(ctx, lock); err != nil {
				return err
			}
		}
		if _, err := q.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+SchemaTable+` (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
			return err
		}
		v, err := Version(ctx, q) // again, under the lock
		if err != nil {
			return err
		}
		if v > len(ms) {
			return fmt.Errorf("%w: it is at version %d, this build knows versions up to %d", ErrSchemaTooNew, v, len(ms))
		}
		for _, m := range ms[v:] {
			for _, stmt := range statements(m.SQL) {
				if _, err := q.Exec(ctx, stmt); err != nil {
					return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
				}
			}
			if _, err := q.Exec(ctx, `INSERT INTO `+SchemaTable+` (version, name) VALUES (?, ?)`, m.Version, m.Name); err != nil {
				return err
			}
		}
		return nil
	})
}

// statements splits a migration at the semicolons that end a line.
func statements(src string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "--") || t == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
