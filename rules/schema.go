package rules

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// SchemaID is the $id of the policy file schema, docs/policy.schema.json.
const SchemaID = "https://github.com/connrules/connrules/docs/policy.schema.json"

// keyDocs describes each key the loader accepts. The schema is built from
// the loader's own key lists (topKeys, ruleKeys, ...); a key without a
// description here makes PolicySchema fail, so the two cannot drift.
var keyDocs = map[string]string{
	"version":        "Policy format version; this engine reads version 1.",
	"name":           "The policy's name, shown in decisions' logs and reports.",
	"description":    "Free text for people.",
	"timezone":       "IANA time zone of the policy's calendar (days, weeks, months), e.g. America/Los_Angeles.",
	"week_start":     "When the week's quota window starts.",
	"messages":       "Texts shared by the rules.",
	"limits":         "Cost bounds of every expression.",
	"params":         "Named constants the rules read as params.x.y: numbers, booleans, strings, durations such as 90d, lists, and tables (a mapping of same-shaped mappings, such as tiers) indexed by a fact. A list or table holds at most 10,000 entries, a string at most 10,000 bytes.",
	"let":            "Named sub-expressions, each usable by later lets and by the rules.",
	"stages":         "The three stages, each an ordered list of rules and a default; the first rule whose when holds decides.",
	"test_defaults":  "The request every test starts from; a test's request changes only what it names.",
	"tests":          "The policy's own tests, run by connrules test.",
	"default":        "The stage's outcome when no rule holds.",
	"rules":          "Rules in evaluation order.",
	"id":             "The rule's id, snake_case; also its reason unless reason is given.",
	"when":           "Condition: an expr-lang expression over the facts, params and lets that must be true or false.",
	"outcome":        "What the stage decides.",
	"reason":         "A snake_case code for the decision, e.g. daily_limit.",
	"message":        "Text shown to the acting user; ${expr} inserts a value.",
	"private":        "Show the sender only messages.generic, so the denial cannot be told apart from any other.",
	"retry_after":    "Expression giving the time from which trying again may succeed.",
	"effects":        "Changes the host applies along with the decision.",
	"kind":           "What the effect does.",
	"subject":        "Whom the effect applies to.",
	"until":          "Expression giving the time the effect lasts until.",
	"generic":        "The message every private denial shows the sender.",
	"max_nodes":      "Largest expression, in syntax tree nodes.",
	"memory_budget":  "Memory budget of one expression run, in expr-lang's units.",
	"day":            "Weekday the week starts on.",
	"time":           "Time of day the week starts at, HH:MM.",
	"request":        "Facts of the test, laid over test_defaults.",
	"expect":         "The expected decision: only the keys given are checked.",
	"rule":           "The deciding rule's id; empty for the stage default.",
	"public_message": "The message the sender sees (the generic one for private denials).",
	"invite":         "Decides whether an invitation may be sent: allow, deny, or shadow (looks sent, never delivered).",
	"deliver":        "Decides where a sent invitation lands: inbox, hold, spam, auto_accept or auto_ignore.",
	"accept":         "Decides whether the recipient may accept: allow or deny.",
}

// PolicySchema returns the JSON Schema (draft 2020-12) of policy files,
// built from the loader's key lists, outcomes and enumerations and, for
// test requests, from the fact types by reflection. factDocs, if given,
// describes facts by dotted path (sender.sent.day).
func PolicySchema(factDocs map[string]string) ([]byte, error) {
	var missing []string
	doc := func(k string) string {
		d, ok := keyDocs[k]
		if !ok {
			missing = append(missing, k)
		}
		return d
	}
	obj := func(keys []string, props map[string]any, required ...string) map[string]any {
		p := map[string]any{}
		for _, k := range keys {
			s, ok := props[k].(map[string]any)
			if !ok {
				s = map[string]any{}
			}
			s["description"] = doc(k)
			p[k] = s
		}
		o := map[string]any{"type": "object", "properties": p, "additionalProperties": false}
		if len(required) > 0 {
			o["required"] = required
		}
		return o
	}
	str := func() map[string]any { return map[string]any{"type": "string"} }
	exprStr := func() map[string]any { return map[string]any{"type": "string", "minLength": 1} }
	ident := map[string]any{"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
	code := func() map[string]any { return map[string]any{"type": "string", "pattern": reasonRe.String()} }
	effect := obj(effectKeys, map[string]any{
		"kind":    map[string]any{"enum": effectKinds},
		"subject": map[string]any{"enum": subjects},
		"until":   exprStr(),
	}, "kind")
	defs := map[string]any{"effect": effect, "request": factSchema(reflect.TypeOf(Request{}), "", factDocs)}
	stages := map[string]any{}
	for _, s := range Stages {
		rule := obj(ruleKeys, map[string]any{
			"id":          code(),
			"description": str(),
			"when":        exprStr(),
			"outcome":     map[string]any{"enum": StageOutcomes[s]},
			"reason":      code(),
			"message":     str(),
			"private":     map[string]any{"type": "boolean"},
			"retry_after": exprStr(),
			"effects":     map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/effect"}},
		}, "id", "when", "outcome")
		def := obj(defaultKeys, map[string]any{
			"outcome": map[string]any{"enum": StageOutcomes[s]},
			"reason":  code(),
			"message": map[string]any{"type": "string", "not": map[string]any{"pattern": `\$\{`}},
		}, "outcome")
		defs["rule_"+s] = rule
		stages[s] = obj(stageKeys, map[string]any{
			"default": def,
			"rules":   map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/rule_" + s}},
		}, "default")
	}
	days := make([]string, 0, len(weekdays))
	for d := range weekdays {
		days = append(days, d, strings.ToUpper(d[:1])+d[1:]) // the loader ignores case
	}
	slices.Sort(days)
	test := obj(testKeys, map[string]any{
		"name":    map[string]any{"type": "string", "minLength": 1},
		"request": map[string]any{"$ref": "#/$defs/request"},
		"expect": obj(expectKeys, map[string]any{
			"outcome":        str(),
			"reason":         str(),
			"rule":           str(),
			"message":        str(),
			"retry_after":    map[string]any{"type": "string", "format": "date-time"},
			"private":        map[string]any{"type": "boolean"},
			"public_message": str(),
			"effects":        map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/effect"}},
		}),
	}, "name", "expect")
	defs["test"] = test
	reserved := append(slices.Clone(reservedNames), sortedHelperNames()...)
	top := obj(topKeys, map[string]any{
		"version":     map[string]any{"enum": []any{1, "1"}},
		"name":        str(),
		"description": str(),
		"timezone":    map[string]any{"type": "string", "minLength": 1},
		"week_start": obj([]string{"day", "time"}, map[string]any{
			"day":  map[string]any{"enum": days},
			"time": map[string]any{"type": "string", "pattern": "^[0-9]{1,2}:[0-9]{2}$"},
		}),
		"messages": obj([]string{"generic"}, map[string]any{"generic": str()}),
		"limits": obj([]string{"max_nodes", "memory_budget"}, map[string]any{
			"max_nodes":     map[string]any{"type": "integer", "minimum": 1, "maximum": maxNodesCeiling},
			"memory_budget": map[string]any{"type": "integer", "minimum": 1, "maximum": memoryBudgetCeiling},
		}),
		"params": map[string]any{"type": "object", "propertyNames": ident},
		"let": map[string]any{"type": "object", "propertyNames": map[string]any{"allOf": []any{ident, map[string]any{"not": map[string]any{"enum": reserved}}}},
			"additionalProperties": exprStr()},
		"stages":        obj(Stages, stages, Stages...),
		"test_defaults": map[string]any{"$ref": "#/$defs/request"},
		"tests":         map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/test"}},
	}, "stages")
	top["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	top["$id"] = SchemaID
	top["title"] = "connrules policy"
	top["$defs"] = defs
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("schema: no description for key(s) %s in keyDocs", strings.Join(slices.Compact(missing), ", "))
	}
	b, err := json.MarshalIndent(top, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func sortedHelperNames() []string {
	out := make([]string, 0, len(helperNames))
	for n := range helperNames {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// factEnums are the enumerations of string facts, by field name.
var factEnums = map[string][]string{
	"stage":       Stages,
	"kind":        memberKinds,
	"status":      memberStatuses,
	"invitations": invitationOpts,
}

var typTimeValue = reflect.TypeOf(time.Time{})

// factSchema reflects a fact type into a schema. Test requests are laid
// over test_defaults, so nothing is required.
func factSchema(t reflect.Type, path string, docs map[string]string) map[string]any {
	s := map[string]any{}
	if d := docs[path]; d != "" {
		s["description"] = d
	}
	nullable := false
	if t.Kind() == reflect.Pointer {
		t, nullable = t.Elem(), true
	}
	typ := func(name string) any {
		if nullable {
			return []string{name, "null"}
		}
		return name
	}
	switch {
	case t == typTimeValue:
		s["type"], s["format"] = typ("string"), "date-time"
	case t.Kind() == reflect.Struct:
		s["type"], s["additionalProperties"] = typ("object"), false
		props := map[string]any{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			props[name] = factSchema(f.Type, p, docs)
		}
		s["properties"] = props
	case t.Kind() == reflect.Slice:
		s["type"], s["items"] = typ("array"), factSchema(t.Elem(), path+"[]", docs)
	case t.Kind() == reflect.String:
		s["type"] = typ("string")
		name := path[strings.LastIndexByte(path, '.')+1:]
		if e, ok := factEnums[name]; ok {
			s["enum"] = e
		}
	case t.Kind() == reflect.Bool:
		s["type"] = typ("boolean")
	case t.Kind() == reflect.Int:
		s["type"] = typ("integer")
	case t.Kind() == reflect.Float64:
		s["type"] = typ("number")
	}
	return s
}
