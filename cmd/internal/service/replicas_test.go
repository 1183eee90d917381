package service

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
)

// TestE2ETwoReplicas: two `connrules serve` processes on one PostgreSQL
// database; 32 concurrent clients invite from one sender through both,
// and exactly the daily limit (5 under the test policy) is admitted in
// total. It needs CONNRULES_POSTGRES_URL (source .ci/postgres.sh); the
// member ids are fresh each run, so the database may be shared.
func TestE2ETwoReplicas(t *testing.T) {
	url := os.Getenv("CONNRULES_POSTGRES_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CONNRULES_POSTGRES_URL is not set")
		}
		t.Skip("CONNRULES_POSTGRES_URL is not set; source .ci/postgres.sh")
	}
	a := start(t, "--store", url)
	b := start(t, "--store", url)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	run := hex.EncodeToString(rnd[:])
	sender := "s-" + run
	a.putMember(sender, nil)
	const n = 32
	for i := range n {
		a.putMember(fmt.Sprintf("r%d-%s", i, run), nil)
	}
	var allowed, denied atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			r, err := doReq(s.url, "POST", "/v1/members/"+sender+"/invitations", testAppKey,
				m{"email": fmt.Sprintf("r%d-%s@example.test", i, run)})
			if err != nil || r.status != 200 {
				t.Errorf("invite %d: %v %d %s", i, err, r.status, r.body)
				return
			}
			var v m
			r.json(t, &v)
			switch outcome(v) {
			case "allow":
				allowed.Add(1)
			case "deny":
				denied.Add(1)
			}
		}()
	}
	wg.Wait()
	if allowed.Load() != 5 || denied.Load() != n-5 {
		t.Fatalf("allowed %d, denied %d; want 5 and %d", allowed.Load(), denied.Load(), n-5)
	}
	if mt := b.meter(sender); mt["day"].(m)["used"] != 5.0 {
		t.Fatalf("meter through the other replica: %v", mt)
	}
}
