package traffic_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/replay/traffic"
)

// Generate writes a week of traffic over the example network.
func ExampleGenerate() {
	src, _ := os.ReadFile("../../../policies.yaml")
	p, err := rules.Load("policies.yaml", src)
	if err != nil {
		panic(err)
	}
	raw, _ := os.ReadFile("../../../web/seed.json")
	var nw traffic.Network
	if err := json.Unmarshal(raw, &nw); err != nil {
		panic(err)
	}
	var log bytes.Buffer
	st, err := traffic.Generate(context.Background(), traffic.Config{Policy: p, Network: nw, Seed: 1, Members: 20, Weeks: 1}, &log)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Members, "members;", st.Events, "events, one JSON line each:", bytes.Count(log.Bytes(), []byte("\n")) == st.Events)
	// Output: 37 members; 1510 events, one JSON line each: true
}
