package cli

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/connrules/connrules/rules/replay/traffic"
)

func init() {
	register("traffic", "generate a seeded sample event log over the example network", runTraffic)
}

func runTraffic(ctx context.Context, e *Env, args []string) int {
	fs := newFlags(e, "traffic", "[--policy FILE] [--network FILE] [--seed N] [--members N] [--weeks N] [--out FILE[.gz]]")
	policy := fs.String("policy", "policies.yaml", "policy that decides the traffic")
	network := fs.String("network", "web/seed.json", "starting network (web/seed.json's format)")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same log")
	members := fs.Int("members", 0, "members to generate beside the network's (0: 150)")
	weeks := fs.Int("weeks", 0, "simulated weeks (0: 3)")
	out := fs.String("out", "-", "output file; a name ending in .gz is gzip-compressed; - is stdout")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(rest) > 0 || *members < 0 || *members > 100_000 || *weeks < 0 || *weeks > 520 {
		fs.Usage()
		return exitUsage
	}
	p, _, ok := loadPolicy(e, *policy)
	if !ok {
		return exitFail
	}
	raw, err := os.ReadFile(*network)
	if err != nil {
		fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
		return exitFail
	}
	var nw traffic.Network
	if err := json.Unmarshal(raw, &nw); err != nil {
		fmt.Fprintf(e.Stderr, "connrules: %s: %v\n", *network, err)
		return exitFail
	}
	var w io.Writer = e.Stdout
	var f *os.File
	if *out != "-" {
		if f, err = os.Create(*out); err != nil {
			fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
			return exitFail
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	var gz *gzip.Writer
	sink := io.Writer(bw)
	if strings.HasSuffix(*out, ".gz") {
		gz, _ = gzip.NewWriterLevel(bw, gzip.BestCompression)
		sink = gz
	}
	st, err := traffic.Generate(ctx, traffic.Config{Policy: p, Network: nw, Seed: *seed, Members: *members, Weeks: *weeks}, sink)
	if err == nil && gz != nil {
		err = gz.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && f != nil {
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "connrules: traffic: %v\n", err)
		return exitFail
	}
	sum, _ := json.Marshal(st)
	fmt.Fprintf(e.Stderr, "traffic: %s\n", sum)
	return exitOK
}
