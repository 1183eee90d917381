package postgres_test

import (
	"context"
	"fmt"
	"os"

	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/postgres"
)

// Replicas open the same database; the quotas and caps hold across them.
func ExampleOpen() {
	ctx := context.Background()
	st, err := postgres.Open(ctx, os.Getenv("CONNRULES_POSTGRES_URL"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	n, err := lifecycle.New(lifecycle.Config{Store: st /* Policy, Clock... */})
	fmt.Println(n != nil, err)
}
