// Package scenario runs scenario files: a policy, a start time, a network
// of members, connections and contacts, and steps (invite, accept, ignore,
// reject, withdraw, block, unblock, remove, import_contacts, advance the
// clock, repeat) with expectations. `connrules simulate` is its command
// line; the tests run every examples/scenarios/*.yaml through it.
//
// A scenario file:
//
//	name: the 31st invitation of a free member's day is refused
//	policy: ../../policies.yaml        # relative to the scenario file
//	start: 2026-03-02T10:00:00-08:00
//	members:
//	  - {id: alice, company: Acme}
//	  - {id: "r{i}", count: 31}        # r1..r31
//	connections:
//	  - [alice, carol]
//	  - {a: carol, b: "r{i}", count: 31}
//	steps:
//	  - repeat: 30
//	    invite: {from: alice, to: "r{i}"}
//	    expect: {outcome: allow}
//	  - invite: {from: alice, to: r31}
//	    expect: {outcome: deny, reason: daily_limit, retry_after: 2026-03-03T00:00:00-08:00}
//
// Malformed files fail to parse with file:line:col errors and a caret.
package scenario

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/connrules/connrules/rules"
)

// Scenario is a parsed scenario file.
type Scenario struct {
	// File is the scenario's file name, as given to Parse.
	File        string       `yaml:"-"`
	Name        string       `yaml:"name"`
	Description string       `yaml:"description"`
	Policy      PolicyRef    `yaml:"policy"`
	Start       Time         `yaml:"start"`
	Members     []MemberSpec `yaml:"members"`
	Connections []ConnSpec   `yaml:"connections"`
	Contacts    ContactsSpec `yaml:"contacts"`
	Blocks      []BlockSpec  `yaml:"blocks"`
	Steps       []Step       `yaml:"steps"`
	lines       []string
	startNode   *yaml.Node
}

// PolicyRef names the policy file, relative to the scenario file, and
// optional parameter overrides by dotted path, e.g. tiers.free.daily: 300.
type PolicyRef struct {
	File   string
	Params []ParamOverride
	Node   *yaml.Node
}

// ParamOverride replaces one policy parameter.
type ParamOverride struct {
	Path  string
	Value *yaml.Node
	Key   *yaml.Node
}

// UnmarshalYAML reads either a file name or {file, params}.
func (p *PolicyRef) UnmarshalYAML(n *yaml.Node) error {
	p.Node = n
	if n.Kind == yaml.ScalarNode {
		p.File = n.Value
		if p.File == "" {
			return errAt(n, "policy: want a file name")
		}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return errAt(n, "policy: want a file name or {file: ..., params: {...}}, got %s", describe(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "file":
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				return errAt(v, "policy.file: want a file name")
			}
			p.File = v.Value
		case "params":
			if v.Kind != yaml.MappingNode {
				return errAt(v, "policy.params: want a mapping of dotted parameter paths to values, e.g. tiers.free.daily: 300")
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				p.Params = append(p.Params, ParamOverride{Path: v.Content[j].Value, Key: v.Content[j], Value: v.Content[j+1]})
			}
		default:
			return errAt(k, "unknown key %q in policy (want file, params)", k.Value)
		}
	}
	if p.File == "" {
		return errAt(n, "policy: missing file")
	}
	return nil
}

// Time is an RFC 3339 instant, e.g. 2026-03-02T10:00:00-08:00.
type Time struct{ time.Time }

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *Time) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errAt(n, "want a time such as 2026-03-02T10:00:00-08:00, got %s", describe(n))
	}
	v, err := time.Parse(time.RFC3339, n.Value)
	if err != nil {
		return errAt(n, "bad time %q: want RFC 3339 with a zone offset, e.g. 2026-03-02T10:00:00-08:00", n.Value)
	}
	t.Time = v
	return nil
}

// Duration is a duration in the policy syntax: 90d, 1w, 36h, 1d12h, 30m.
type Duration struct{ time.Duration }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errAt(n, "want a duration such as 1d or 90m, got %s", describe(n))
	}
	v, err := rules.ParseDuration(n.Value)
	if err != nil {
		return errAt(n, "%v", err)
	}
	if v < 0 {
		return errAt(n, "the clock only moves forward: %q is negative", n.Value)
	}
	d.Duration = v
	return nil
}

// MemberSpec declares a member, or with count, members id{i} for i from
// first (default 1). "{i}" in any string field is replaced.
type MemberSpec struct {
	ID              string       `yaml:"id"`
	Count           int          `yaml:"count"`
	First           int          `yaml:"first"`
	Kind            string       `yaml:"kind"`
	Tier            string       `yaml:"tier"`
	Status          string       `yaml:"status"`
	Company         string       `yaml:"company"`
	School          string       `yaml:"school"`
	Title           string       `yaml:"title"`
	Email           string       `yaml:"email"`
	Settings        SettingsSpec `yaml:"settings"`
	AcceptanceRate  *float64     `yaml:"acceptance_rate"`
	RestrictedUntil *Time        `yaml:"restricted_until"`
	SoftBannedUntil *Time        `yaml:"soft_banned_until"`
	Node            *yaml.Node   `yaml:"-"`
}

// SettingsSpec is a member's invitation settings.
type SettingsSpec struct {
	Invitations         string   `yaml:"invitations"`
	Companies           []string `yaml:"companies"`
	Schools             []string `yaml:"schools"`
	Titles              []string `yaml:"titles"`
	RequireConfirmation bool     `yaml:"require_confirmation"`
	AutoAccept          struct {
		Companies []string `yaml:"companies"`
		Schools   []string `yaml:"schools"`
		Titles    []string `yaml:"titles"`
	} `yaml:"auto_accept"`
}

var (
	kinds       = []string{"person", "company"}
	statuses    = []string{"active", "soft_banned", "deactivated", "closed"}
	invitations = []string{"everyone", "email_or_contacts", "contacts_only", "mutual", "second_degree", "third_degree", "nobody"}
)

// UnmarshalYAML decodes strictly and checks the enumerated fields.
func (m *MemberSpec) UnmarshalYAML(n *yaml.Node) error {
	type plain MemberSpec
	if err := decode(n, (*plain)(m)); err != nil {
		return err
	}
	m.Node = n
	if m.ID == "" {
		return errAt(n, "member without an id")
	}
	if m.Count < 0 {
		return errAt(valueNode(n, "count"), "count must not be negative")
	}
	if m.Count > 0 && !strings.Contains(m.ID, "{i}") {
		return errAt(valueNode(n, "id"), "a member with count needs {i} in its id, e.g. \"r{i}\"")
	}
	check := func(key, v string, set []string) error {
		if v != "" && !slices.Contains(set, v) {
			return errAt(valueNode(n, key), "%s %q is not one of %s", key, v, strings.Join(set, ", "))
		}
		return nil
	}
	if err := check("kind", m.Kind, kinds); err != nil {
		return err
	}
	if err := check("status", m.Status, statuses); err != nil {
		return err
	}
	if s := valueNode(n, "settings"); s != nil {
		if err := check("invitations", m.Settings.Invitations, invitations); err != nil {
			e := err.(*Error)
			if v := valueNode(s, "invitations"); v != nil {
				e.Line, e.Column = v.Line, v.Column
			}
			return e
		}
	}
	if m.AcceptanceRate != nil && (*m.AcceptanceRate < 0 || *m.AcceptanceRate > 1) {
		return errAt(valueNode(n, "acceptance_rate"), "acceptance_rate must be within 0..1")
	}
	return nil
}

// valueNode is the value of key in a mapping node, or nil.
func valueNode(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// ConnSpec is a connection: [a, b], or {a, b, count, first} with {i} in a
// or b.
type ConnSpec struct {
	A, B         string
	Count, First int
	Node         *yaml.Node
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *ConnSpec) UnmarshalYAML(n *yaml.Node) error {
	c.Node = n
	switch n.Kind {
	case yaml.SequenceNode:
		if len(n.Content) != 2 || n.Content[0].Kind != yaml.ScalarNode || n.Content[1].Kind != yaml.ScalarNode {
			return errAt(n, "a connection is [member, member]")
		}
		c.A, c.B = n.Content[0].Value, n.Content[1].Value
	case yaml.MappingNode:
		var p struct {
			A     string `yaml:"a"`
			B     string `yaml:"b"`
			Count int    `yaml:"count"`
			First int    `yaml:"first"`
		}
		if err := decode(n, &p); err != nil {
			return err
		}
		c.A, c.B, c.Count, c.First = p.A, p.B, p.Count, p.First
		if c.A == "" || c.B == "" {
			return errAt(n, "a connection needs a and b")
		}
		if c.Count > 0 && !strings.Contains(c.A+c.B, "{i}") {
			return errAt(n, "a connection with count needs {i} in a or b")
		}
	default:
		return errAt(n, "a connection is [member, member] or {a: ..., b: ..., count: N}, got %s", describe(n))
	}
	if c.A == c.B {
		return errAt(n, "a member cannot connect to itself")
	}
	return nil
}

// ContactsSpec maps a member to the emails of their imported contacts.
type ContactsSpec map[string][]string

// BlockSpec is a block at the start: {by: member, member: member}.
type BlockSpec struct {
	By     string `yaml:"by"`
	Member string `yaml:"member"`
}

// Step is one step of a scenario: one action, optionally repeated, with
// optional expectations.
type Step struct {
	Name string
	// Action is the action key: invite, accept, ignore, reject, withdraw,
	// block, unblock, remove, import_contacts, advance, advance_to, expire
	// or check.
	Action string
	Args   Args
	// Repeat runs the step this many times with {i} from First (default 1);
	// Every advances the clock between repetitions.
	Repeat, First int
	Every         time.Duration
	Expect        *Expect
	Line, Column  int
}

// Args are the arguments of a step's action; which apply depends on the
// action.
type Args struct {
	From       string   `yaml:"from"`
	To         string   `yaml:"to"`
	Email      string   `yaml:"email"`
	Note       string   `yaml:"note"`
	By         string   `yaml:"by"`
	Member     string   `yaml:"member"`
	Invitation string   `yaml:"invitation"`
	Emails     []string `yaml:"emails"`
	Invite     bool     `yaml:"invite"`
	// Advance and At are for advance and advance_to.
	Advance time.Duration `yaml:"-"`
	At      time.Time     `yaml:"-"`
}

// actionArgs lists each action's argument keys: the required ones first,
// then after "|" the optional ones.
var actionArgs = map[string][2][]string{
	"invite":          {{"from"}, {"to", "email", "note"}},
	"accept":          {{"by"}, {"from", "invitation"}},
	"ignore":          {{"by"}, {"from", "invitation"}},
	"reject":          {{"by"}, {"from", "invitation"}},
	"withdraw":        {{"from"}, {"to", "invitation"}},
	"block":           {{"by", "member"}, nil},
	"unblock":         {{"by", "member"}, nil},
	"remove":          {{"by", "member"}, nil},
	"import_contacts": {{"by", "emails"}, {"invite", "note"}},
	"check":           {nil, {"member"}},
	"expire":          {nil, nil},
}

func actionNames() string {
	names := []string{"advance", "advance_to"}
	for k := range actionArgs {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// UnmarshalYAML reads a step: exactly one action key, plus name, repeat,
// first, every and expect.
func (s *Step) UnmarshalYAML(n *yaml.Node) error {
	s.Line, s.Column = n.Line, n.Column
	if n.Kind != yaml.MappingNode {
		return errAt(n, "a step is a mapping with one action (%s), got %s", actionNames(), describe(n))
	}
	var actionNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "name":
			if err := decodeValue(v, reflectOf(&s.Name)); err != nil {
				return err
			}
		case "repeat":
			if err := decodeValue(v, reflectOf(&s.Repeat)); err != nil {
				return err
			}
			if s.Repeat < 1 {
				return errAt(v, "repeat must be at least 1")
			}
		case "first":
			if err := decodeValue(v, reflectOf(&s.First)); err != nil {
				return err
			}
		case "every":
			var d Duration
			if err := d.UnmarshalYAML(v); err != nil {
				return err
			}
			s.Every = d.Duration
		case "expect":
			s.Expect = &Expect{}
			if err := s.Expect.UnmarshalYAML(v); err != nil {
				return err
			}
		default:
			_, known := actionArgs[k.Value]
			if !known && k.Value != "advance" && k.Value != "advance_to" {
				return errAt(k, "unknown step key %q (want one of %s, or name, repeat, first, every, expect)", k.Value, actionNames())
			}
			if actionNode != nil {
				return errAt(k, "one action per step: this step already has %q", s.Action)
			}
			s.Action, actionNode = k.Value, v
		}
	}
	if actionNode == nil {
		return errAt(n, "step without an action (want one of %s)", actionNames())
	}
	switch s.Action {
	case "advance":
		var d Duration
		if err := d.UnmarshalYAML(actionNode); err != nil {
			return err
		}
		s.Args.Advance = d.Duration
		return nil
	case "advance_to":
		var t Time
		if err := t.UnmarshalYAML(actionNode); err != nil {
			return err
		}
		s.Args.At = t.Time
		return nil
	}
	spec := actionArgs[s.Action]
	if actionNode.ShortTag() == "!!null" || (actionNode.Kind == yaml.ScalarNode && actionNode.Value == "true") {
		actionNode = &yaml.Node{Kind: yaml.MappingNode, Line: actionNode.Line, Column: actionNode.Column}
	}
	if actionNode.Kind == yaml.ScalarNode && s.Action == "check" {
		s.Args.Member = actionNode.Value
		return nil
	}
	if actionNode.Kind != yaml.MappingNode {
		return errAt(actionNode, "%s: want a mapping with %s, got %s", s.Action, strings.Join(append(slices.Clone(spec[0]), spec[1]...), ", "), describe(actionNode))
	}
	allowed := append(slices.Clone(spec[0]), spec[1]...)
	for i := 0; i+1 < len(actionNode.Content); i += 2 {
		k := actionNode.Content[i]
		if !slices.Contains(allowed, k.Value) {
			return errAt(k, "%s does not take %q (want %s)", s.Action, k.Value, strings.Join(allowed, ", "))
		}
	}
	for _, req := range spec[0] {
		if valueNode(actionNode, req) == nil {
			return errAt(actionNode, "%s needs %q", s.Action, req)
		}
	}
	if err := decode(actionNode, &s.Args); err != nil {
		return err
	}
	switch s.Action {
	case "invite":
		if (s.Args.To == "") == (s.Args.Email == "") {
			return errAt(actionNode, "invite needs exactly one of to (a member id) or email")
		}
	case "accept", "ignore", "reject":
		if (s.Args.From == "") == (s.Args.Invitation == "") {
			return errAt(actionNode, "%s needs exactly one of from (the sender) or invitation (an id)", s.Action)
		}
	case "withdraw":
		if (s.Args.To == "") == (s.Args.Invitation == "") {
			return errAt(actionNode, "withdraw needs exactly one of to (the recipient) or invitation (an id)")
		}
	}
	return nil
}

// Expect is what a step must produce. Unset fields are not checked.
type Expect struct {
	// Outcome, Reason, Rule and Message are the step's engine decision:
	// the invite stage's for invite, the accept stage's for accept.
	Outcome *string `yaml:"outcome"`
	Reason  *string `yaml:"reason"`
	Rule    *string `yaml:"rule"`
	Message *string `yaml:"message"`
	// RetryAfter is the decision's retry_after.
	RetryAfter *Time `yaml:"retry_after"`
	// Public is what the sender is shown.
	Public *PublicExpect `yaml:"public"`
	// Deliver is the deliver stage's outcome.
	Deliver *string `yaml:"deliver"`
	// Status is the invitation's status after the step.
	Status *string `yaml:"status"`
	// RestrictedUntil is the acting member's restriction end.
	RestrictedUntil *Time `yaml:"restricted_until"`
	// Degree and Mutual are the facts the invite stage saw.
	Degree *int `yaml:"degree"`
	Mutual *int `yaml:"mutual"`
	// Connected is whether the step's two members are connected after it.
	Connected *bool `yaml:"connected"`
	// Error is a substring of the step's error; a step with an error and
	// no Error expectation fails.
	Error *string `yaml:"error"`
	// Matched is how many imported contacts matched members.
	Matched *int `yaml:"matched"`
	// Expired is how many invitations an advance or expire step expired.
	Expired *int `yaml:"expired"`
	// Meter checks quota meter values by dotted path, e.g. day.used: 30.
	Meter *MeterExpect `yaml:"meter"`
	Node  *yaml.Node   `yaml:"-"`
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (e *Expect) UnmarshalYAML(n *yaml.Node) error {
	type plain Expect
	if err := decode(n, (*plain)(e)); err != nil {
		return err
	}
	e.Node = n
	return nil
}

// PublicExpect is the sender's view.
type PublicExpect struct {
	Outcome *string `yaml:"outcome"`
	Message *string `yaml:"message"`
}

// MeterExpect is {member: id, path: value, ...}; member defaults to the
// step's acting member.
type MeterExpect struct {
	Member string
	Values []MeterValue
}

// MeterValue is one expected meter value.
type MeterValue struct {
	Path string
	Want *yaml.Node
}

var meterPaths = func() []string {
	p := []string{"available", "over_limit", "restricted_until", "connections", "connection_limit", "tier"}
	for _, w := range []string{"hour", "day", "week", "month"} {
		for _, f := range []string{"used", "limit", "remaining", "resets_at"} {
			p = append(p, w+"."+f)
		}
		p = append(p, "received."+w)
	}
	return p
}()

// UnmarshalYAML implements yaml.Unmarshaler.
func (m *MeterExpect) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return errAt(n, "meter: want a mapping such as {member: alice, day.used: 30}, got %s", describe(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "member" {
			m.Member = v.Value
			continue
		}
		if !slices.Contains(meterPaths, k.Value) {
			return errAt(k, "unknown meter value %q (want member or one of %s)", k.Value, strings.Join(meterPaths, ", "))
		}
		if v.Kind != yaml.ScalarNode {
			return errAt(v, "meter %s: want a number, a time or a word", k.Value)
		}
		m.Values = append(m.Values, MeterValue{Path: k.Value, Want: v})
	}
	return nil
}

// Parse parses a scenario file. filename is used in error positions and
// to resolve the policy path.
func Parse(filename string, src []byte) (*Scenario, error) {
	lines := strings.Split(string(src), "\n")
	fail := func(err error) error {
		e, ok := err.(*Error)
		if !ok {
			e = &Error{Line: 1, Column: 1, Msg: err.Error()}
		}
		e.File = filename
		e.Snippet = snippet(lines, e.Line, e.Column)
		return e
	}
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fail(yamlSyntaxError(err))
	}
	if len(root.Content) == 0 {
		return nil, fail(&Error{Line: 1, Column: 1, Msg: "empty scenario"})
	}
	var sc Scenario
	if err := decode(&root, &sc); err != nil {
		return nil, fail(err)
	}
	sc.File, sc.lines = filename, lines
	doc := root.Content[0]
	for _, key := range []string{"policy", "start", "steps"} {
		if valueNode(doc, key) == nil {
			return nil, fail(errAt(doc, "missing %q", key))
		}
	}
	sc.startNode = valueNode(doc, "start")
	return &sc, nil
}

// yamlSyntaxError turns yaml.v3's "yaml: line N: msg" into a positioned
// error.
func yamlSyntaxError(err error) *Error {
	msg := err.Error()
	e := &Error{Line: 1, Column: 1, Msg: msg}
	var line int
	if _, scanErr := fmt.Sscanf(msg, "yaml: line %d:", &line); scanErr == nil {
		e.Line = line
		if _, rest, ok := strings.Cut(msg, fmt.Sprintf("line %d: ", line)); ok {
			e.Msg = "YAML syntax: " + rest
		}
	}
	return e
}

// at makes a positioned error in the scenario file.
func (sc *Scenario) at(line, col int, format string, args ...any) *Error {
	return &Error{File: sc.File, Line: line, Column: col, Msg: fmt.Sprintf(format, args...), Snippet: snippet(sc.lines, line, col)}
}
