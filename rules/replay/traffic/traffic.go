// Package traffic generates a realistic, seeded event log: the example
// network (web/seed.json) grown with generated members, and several
// simulated weeks of invitations, answers, withdrawals, imports, blocks
// and spam bursts, run through the lifecycle under a policy. The same
// seed and configuration always give the same log, byte for byte.
//
// The log is what [replay.Replay] and [replay.Simulate] read; the sample
// under examples/events was written by it (see the README there).
package traffic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// Network is a starting network, in web/seed.json's format.
type Network struct {
	Start       time.Time           `json:"start"`
	Members     []lifecycle.Member  `json:"members"`
	Connections [][2]string         `json:"connections"`
	Blocks      [][2]string         `json:"blocks"`
	Contacts    map[string][]string `json:"contacts"`
}

// Config configures [Generate].
type Config struct {
	// Policy decides every action; required.
	Policy *rules.Policy
	// Network is the starting network; required.
	Network Network
	// Seed makes the run reproducible.
	Seed uint64
	// Members is how many members to generate beside the network's own;
	// 0 means 150.
	Members int
	// Weeks is how long the run lasts; 0 means 3.
	Weeks int
}

// Stats counts what a run did.
type Stats struct {
	Members int            `json:"members"`
	Actions map[string]int `json:"actions"`
	Events  int            `json:"events"`
	Until   time.Time      `json:"until"`
}

// Generate runs the traffic and writes every event of the lifecycle's log
// to w as JSON lines, as it happens.
func Generate(ctx context.Context, cfg Config, w io.Writer) (Stats, error) {
	if cfg.Policy == nil {
		return Stats{}, errors.New("traffic: Config.Policy is required")
	}
	if cfg.Members <= 0 {
		cfg.Members = 150
	}
	if cfg.Weeks <= 0 {
		cfg.Weeks = 3
	}
	store := &teeStore{MemStore: lifecycle.NewMemStore(), enc: json.NewEncoder(w)}
	clock := lifecycle.NewManualClock(cfg.Network.Start)
	net, err := lifecycle.New(lifecycle.Config{Policy: cfg.Policy, Store: store, Clock: clock})
	if err != nil {
		return Stats{}, err
	}
	g := &gen{cfg: cfg, rnd: rand.New(rand.NewPCG(cfg.Seed, 0x636f6e6e72756c65)), net: net, clock: clock,
		adj: map[string]map[string]bool{}, byID: map[string]*lifecycle.Member{},
		ignoredBy: map[string][]string{}, stats: Stats{Actions: map[string]int{}}}
	if err := g.setup(ctx); err != nil {
		return g.stats, err
	}
	if err := g.run(ctx); err != nil {
		return g.stats, err
	}
	g.stats.Events = int(store.seq)
	g.stats.Members = len(g.members)
	g.stats.Until = clock.Now()
	return g.stats, store.err
}

// teeStore writes each event as it is appended instead of keeping it.
type teeStore struct {
	*lifecycle.MemStore
	enc *json.Encoder
	seq uint64
	err error
}

func (s *teeStore) Append(_ context.Context, e *lifecycle.Event) error {
	s.seq++
	e.Seq = s.seq
	if s.err == nil {
		s.err = s.enc.Encode(e)
	}
	return s.err
}

var (
	companies = []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent"}
	schools   = []string{"State U", "Tech", "MIT", "City College", "Poly", "Northern"}
	notes     = []string{"", "", "", "Hi, we met at the meetup.", "Great talk last week!", "Would love to connect.", "Fellow alum here."}
	spamNotes = []string{"Guaranteed income from home, click here", "A crypto investment opportunity for you", "Work from home and earn"}
)

type gen struct {
	cfg     Config
	rnd     *rand.Rand
	net     *lifecycle.Network
	clock   *lifecycle.ManualClock
	members []string
	byID    map[string]*lifecycle.Member
	adj     map[string]map[string]bool
	// ignoredBy lists, per sender, recipients who ignored them: retried
	// later, to meet the resend rules.
	ignoredBy map[string][]string
	spammers  []string
	recruiter string
	queue     actionQueue
	seq       int
	stats     Stats
}

func (g *gen) setup(ctx context.Context) error {
	nw := g.cfg.Network
	add := func(m lifecycle.Member) error {
		if err := g.net.AddMember(ctx, m); err != nil {
			return err
		}
		g.members = append(g.members, m.ID)
		mm := m
		g.byID[m.ID] = &mm
		return nil
	}
	for _, m := range nw.Members {
		if err := add(m); err != nil {
			return err
		}
	}
	for i := 1; i <= g.cfg.Members; i++ {
		if err := add(g.member(i)); err != nil {
			return err
		}
	}
	if err := add(lifecycle.Member{ID: "acme_page", Kind: "company", Company: "Acme", AcceptanceRate: 0.5}); err != nil {
		return err
	}
	connect := func(a, b string) error {
		if a == b || g.adj[a][b] {
			return nil
		}
		g.link(a, b)
		return g.net.Connect(ctx, a, b)
	}
	for _, c := range nw.Connections {
		if err := connect(c[0], c[1]); err != nil {
			return err
		}
	}
	// Every generated member knows a few colleagues and a few others.
	for _, id := range g.members {
		m := g.byID[id]
		for range 2 + g.rnd.IntN(5) {
			other := g.pick()
			if g.rnd.IntN(2) == 0 {
				other = g.colleague(m)
			}
			if err := connect(id, other); err != nil {
				return err
			}
		}
	}
	owners := make([]string, 0, len(nw.Contacts))
	for o := range nw.Contacts {
		owners = append(owners, o)
	}
	slices.Sort(owners)
	for _, o := range owners {
		if _, err := g.net.ImportContacts(ctx, o, nw.Contacts[o]); err != nil {
			return err
		}
	}
	for _, b := range nw.Blocks {
		if _, err := g.net.Block(ctx, b[0], b[1]); err != nil {
			return err
		}
		g.unlink(b[0], b[1])
	}
	return nil
}

// member makes the i-th generated member: mostly free, active people who
// accept anyone; a few spammers, a premium recruiter, choosy settings.
func (g *gen) member(i int) lifecycle.Member {
	id := fmt.Sprintf("m%03d", i)
	m := lifecycle.Member{ID: id, Company: companies[g.rnd.IntN(len(companies))], School: schools[g.rnd.IntN(len(schools))],
		AcceptanceRate: 0.3 + 0.5*g.rnd.Float64(), Settings: rules.Settings{Invitations: "everyone"}}
	m.Email = id + "@" + strings.ToLower(m.Company) + ".example"
	if g.rnd.IntN(8) == 0 {
		m.Tier = "premium"
	}
	switch {
	case i <= 3:
		m.AcceptanceRate = 0.05
		g.spammers = append(g.spammers, id)
	case i == 4:
		m.Tier = "premium"
		g.recruiter = id
	case i == 5 || i == 6:
		m.Status = "soft_banned"
	case i == 7:
		m.Status = "deactivated"
	}
	switch r := g.rnd.IntN(40); {
	case r < 3:
		m.Settings.Invitations = "email_or_contacts"
	case r < 5:
		m.Settings.Invitations = "second_degree"
	case r < 6:
		m.Settings.Invitations = "nobody"
	case r < 8:
		m.Settings.RequireConfirmation = true
	case r < 10:
		m.Settings.AutoAccept.Companies = []string{m.Company}
	case r < 11:
		m.Settings.Companies = []string{m.Company, companies[g.rnd.IntN(len(companies))]}
	}
	return m
}

func (g *gen) link(a, b string) {
	for _, p := range [][2]string{{a, b}, {b, a}} {
		if g.adj[p[0]] == nil {
			g.adj[p[0]] = map[string]bool{}
		}
		g.adj[p[0]][p[1]] = true
	}
}

func (g *gen) unlink(a, b string) {
	delete(g.adj[a], b)
	delete(g.adj[b], a)
}

func (g *gen) pick() string { return g.members[g.rnd.IntN(len(g.members))] }

func (g *gen) colleague(m *lifecycle.Member) string {
	for range 8 {
		if c := g.pick(); g.byID[c].Company == m.Company {
			return c
		}
	}
	return g.pick()
}

// secondDegree picks a friend of a friend, or anyone when there is none.
func (g *gen) secondDegree(id string) string {
	friends := sortedKeys(g.adj[id])
	if len(friends) > 0 {
		f := friends[g.rnd.IntN(len(friends))]
		fof := sortedKeys(g.adj[f])
		for range 4 {
			if len(fof) == 0 {
				break
			}
			if c := fof[g.rnd.IntN(len(fof))]; c != id && !g.adj[id][c] {
				return c
			}
		}
	}
	return g.pick()
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
