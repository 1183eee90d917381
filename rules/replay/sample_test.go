package replay

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"testing"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/replay/traffic"
)

// TestSampleIsFresh regenerates the sample log as examples/events/README.md
// says and compares it, uncompressed, with the committed one. With -update
// it rewrites the sample (then rerun -update for the goldens).
func TestSampleIsFresh(t *testing.T) {
	p, err := rules.Load("rules/replay/testdata/recorded.yaml", recorded(t))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../../web/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	var nw traffic.Network
	if err := json.Unmarshal(raw, &nw); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := traffic.Generate(context.Background(), traffic.Config{Policy: p, Network: nw, Seed: 1, Members: 200, Weeks: 4}, &got); err != nil {
		t.Fatal(err)
	}
	if *update {
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		_, _ = zw.Write(got.Bytes())
		_ = zw.Close()
		if err := os.WriteFile(samplePath, z.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(sample(t)))
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatal("the generator no longer writes the committed sample; if the change is intended, run go test ./rules/replay -update twice (sample, then goldens)")
	}
}
