package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/sqlite"
)

// What a store on a SQLite file holds is there after a reopen.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "connrules")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	path := filepath.Join(dir, "state.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = st.PutMember(ctx, lifecycle.Member{ID: "alice", Email: "alice@example.com"})
	_ = st.PutMember(ctx, lifecycle.Member{ID: "bob"})
	_ = st.Connect(ctx, "alice", "bob")
	st.Close()

	st, _ = sqlite.Open(ctx, path)
	defer st.Close()
	m, _ := st.MemberByEmail(ctx, "Alice@Example.com")
	n, _ := st.ConnectionCount(ctx, "bob")
	fmt.Println(m.ID, n)
	// Output: alice 1
}
