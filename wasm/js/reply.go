//go:build js && wasm

package main

import (
	"encoding/json"
	"syscall/js"
)

// This file holds what both builds of the module use: the page's
// (main.go, sim.go) and the authoring one (-tags author, author.go).

func simArg(a []js.Value, i int) string {
	if i < len(a) && a[i].Type() == js.TypeString {
		return a[i].String()
	}
	return ""
}

// simReply encodes a result as {ok: json} or an error as {error: message}.
// A failed command that still decided (an invite the store refused to
// commit) keeps its error: the page shows the message.
func simReply(v any, err error) any {
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]any{"error": "encoding the answer: " + err.Error()}
	}
	return map[string]any{"ok": string(b)}
}
