package replay

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"testing"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules/lifecycle"
)

// plainSample is the sample log uncompressed, so the benchmarks measure
// replay, not gzip.
func plainSample(b *testing.B) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(sample(b)))
	if err != nil {
		b.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	return plain
}

func benchReplay(b *testing.B, opts Options, log []byte) {
	b.SetBytes(int64(len(log)))
	events := 0
	for b.Loop() {
		r, err := Replay(context.Background(), bytes.NewReader(log), opts)
		if err != nil {
			b.Fatal(err)
		}
		events += r.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReplayNative replays the sample log (28k events) under a lower
// daily limit on the native engine, on all cores.
func BenchmarkReplayNative(b *testing.B) {
	benchReplay(b, Options{Policy: variant(b, "lower", dailyFrom, dailyTo)}, plainSample(b))
}

// BenchmarkReplayNativeGzip is the same from the committed gzip file.
func BenchmarkReplayNativeGzip(b *testing.B) {
	benchReplay(b, Options{Policy: variant(b, "lower", dailyFrom, dailyTo)}, sample(b))
}

// BenchmarkReplayWazero decides in the WebAssembly module on wazero, a
// batch per call, one instance per core.
func BenchmarkReplayWazero(b *testing.B) {
	ctx := context.Background()
	e, err := host.New(ctx, host.WithPoolSize(2))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close(ctx)
	src := []byte(readVariantSource(b, dailyFrom, dailyTo))
	if err := e.Load(ctx, "lower.yaml", src); err != nil {
		b.Fatal(err)
	}
	var d lifecycle.Decider = e
	benchReplay(b, Options{Policy: variant(b, "lower", dailyFrom, dailyTo), Decider: d}, plainSample(b))
}

// BenchmarkSimulate re-runs the sample's actions through the lifecycle.
func BenchmarkSimulate(b *testing.B) {
	log := plainSample(b)
	opts := Options{Policy: variant(b, "lower", dailyFrom, dailyTo)}
	events := 0
	for b.Loop() {
		r, err := Simulate(context.Background(), bytes.NewReader(log), opts)
		if err != nil {
			b.Fatal(err)
		}
		events += r.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
