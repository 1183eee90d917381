package rules

import (
	"encoding/json"
	"time"
)

// Reasons the engine itself produces, beside the policy's own.
const (
	// ReasonDefault is the reason of a stage's default outcome when the
	// policy names none.
	ReasonDefault = "default"
	// ReasonEvaluationError means a rule failed at run time; the stage failed closed.
	ReasonEvaluationError = "evaluation_error"
	// ReasonInvalidRequest means the facts were malformed; the stage failed closed.
	ReasonInvalidRequest = "invalid_request"
	// ReasonServiceUnavailable means no policy was loaded or the engine failed.
	ReasonServiceUnavailable = "service_unavailable"
)

// UnavailableRetry is how long a caller should wait after a
// service_unavailable decision.
const UnavailableRetry = 30 * time.Second

// Decision is the engine's answer for one request. Its JSON names are a
// public contract. It is the operator's view: it may name private rules, so
// show the sender only [Policy.Public] of it.
type Decision struct {
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	// Rule is the id of the deciding rule, empty for the stage default.
	Rule    string `json:"rule"`
	Message string `json:"message"`
	// Private marks a decision the sender must not be able to tell apart
	// from the generic denial.
	Private    bool      `json:"private,omitempty"`
	RetryAfter time.Time `json:"retry_after,omitzero"`
	Effects    []Effect  `json:"effects,omitempty"`
	// Trace lists every rule of the stage, in explain mode only.
	Trace []TraceEntry `json:"trace,omitempty"`
	// Diagnostics lists run-time errors of rules.
	Diagnostics []Diagnostic `json:"diagnostics,omitempty"`
}

// Effect is a change a host must apply along with the decision, such as
// restricting the sender.
type Effect struct {
	Kind    string    `json:"kind"`
	Subject string    `json:"subject"`
	Until   time.Time `json:"until,omitzero"`
}

// TraceEntry says whether one rule held, in explain mode.
type TraceEntry struct {
	Rule  string `json:"rule"`
	Held  bool   `json:"held"`
	Error string `json:"error,omitempty"`
}

// Diagnostic is a run-time failure of one rule. Deciding never panics: a
// failing rule becomes a diagnostic and the stage fails closed.
type Diagnostic struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// PublicDecision is what a host may show the acting user verbatim. A
// private denial carries only the policy's generic message, and a shadow
// outcome reads exactly like an allow.
type PublicDecision struct {
	Outcome    string    `json:"outcome"`
	Message    string    `json:"message"`
	RetryAfter time.Time `json:"retry_after,omitzero"`
}

// PublicView is the part of a policy that decides what the acting user
// may see of a decision: the generic message of private denials and the
// invite stage's default, which a shadow outcome shows.
type PublicView struct {
	Generic string         `json:"generic"`
	Allow   PublicDecision `json:"allow"`
}

// Public is the view of d that a host may show the acting user verbatim,
// exactly as [Policy.Public] computes it.
func (v PublicView) Public(d Decision) PublicDecision {
	switch {
	case d.Outcome == "shadow":
		return v.Allow
	case d.Private || d.Reason == ReasonEvaluationError || d.Reason == ReasonInvalidRequest:
		return v.GenericDenial()
	}
	return PublicDecision{Outcome: d.Outcome, Message: d.Message, RetryAfter: d.RetryAfter}
}

// GenericDenial is the public view every private denial must equal.
func (v PublicView) GenericDenial() PublicDecision {
	return PublicDecision{Outcome: "deny", Message: v.Generic}
}

// JSON returns the decision as compact JSON; it is never empty. A
// decision JSON cannot carry (a time past year 9999, which Decide never
// returns but a hand-made Decision may hold) comes back failed closed:
// its times dropped, reason evaluation_error and a diagnostic saying why.
func (d Decision) JSON() []byte {
	b, err := json.Marshal(d)
	if err != nil {
		b, _ = json.Marshal(d.unwritable(err))
	}
	return b
}

// unwritable is d failed closed, without its times and effects.
func (d Decision) unwritable(err error) Decision {
	out := failOutcome(StageInvite)
	if d.Outcome == "hold" {
		out = "hold"
	}
	f := Decision{Outcome: out, Reason: ReasonEvaluationError, Rule: d.Rule, Message: d.Message, Private: d.Private, Trace: d.Trace}
	f.Diagnostics = append(append(f.Diagnostics, d.Diagnostics...), Diagnostic{Rule: d.Rule, Message: oneLine("decision not representable as JSON: " + err.Error())})
	return f
}

// JSON returns the public view as compact JSON; it is never empty: a
// retry_after JSON cannot write (past year 9999) is left out.
func (p PublicDecision) JSON() []byte {
	b, err := json.Marshal(p)
	if err != nil {
		p.RetryAfter = time.Time{}
		b, _ = json.Marshal(p)
	}
	return b
}

// failOutcome is where each stage lands when it fails closed.
func failOutcome(stage string) string {
	if stage == StageDeliver {
		return "hold"
	}
	return "deny"
}

// Unavailable is the well-formed answer for a stage when no policy is
// loaded or the engine failed: closed, retryable after [UnavailableRetry].
func Unavailable(stage string, now time.Time, msg string) Decision {
	if msg == "" {
		msg = "The service is unavailable. Please try again shortly."
	}
	return Decision{
		Outcome:    failOutcome(stage),
		Reason:     ReasonServiceUnavailable,
		Message:    msg,
		RetryAfter: now.Add(UnavailableRetry),
	}
}
