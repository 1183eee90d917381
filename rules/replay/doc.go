// Package replay answers "what would this policy change?" over the
// lifecycle's event log (see [lifecycle.Event]).
//
// [Replay] re-decides every recorded decision on its recorded facts under
// a new policy: a what-if on the same inputs. It compares against the
// recorded decision, or, with a baseline, against the baseline policy's
// decision on the same facts, so a log written by an older engine still
// compares like with like. [Simulate] instead re-runs the recorded actions
// through the lifecycle on a fresh store, so knock-on effects show: a
// lower daily limit refuses an invitation, which changes later counters,
// pending invitations and answers.
//
// Both stream the log (JSON lines, gzip-compressed or not) and keep only
// the report in memory, so a log of any length replays in constant
// memory. Replay decides on all cores, in batches, and aggregates in log
// order, so its report is deterministic.
//
// The report counts flips per (old outcome/reason → new outcome/reason),
// per deciding rule, and per member, with the first few example events of
// each; [Report.WriteText] prints it for people and its JSON encoding is
// for tools.
package replay
