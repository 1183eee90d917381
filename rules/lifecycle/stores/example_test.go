package stores_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/stores"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "connrules")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := stores.Open(ctx, "sqlite:"+filepath.Join(dir, "state.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = st.PutMember(ctx, lifecycle.Member{ID: "alice", Email: "alice@example.com"})
	st.Close()

	// Reopened, the member is still there.
	st, _ = stores.Open(ctx, "sqlite:"+filepath.Join(dir, "state.db"))
	defer st.Close()
	m, err := st.MemberByEmail(ctx, "ALICE@example.com")
	fmt.Println(m.ID, err)
	// Output: alice <nil>
}
