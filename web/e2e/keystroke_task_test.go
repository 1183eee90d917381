package e2e

import (
	"fmt"
	"testing"
)

// An edit reloads the policy in the task of the keystroke itself: a
// microtask queued right behind the edit already sees the new policy in
// force, before any timer or frame (the reload used to wait for a timer
// behind the editor's frame, RATIONALE "Why the page reloads in the
// keystroke's task").
func TestEditReloadsInItsOwnTask(t *testing.T) {
	p := open(t)
	const anchor = "# connrules default policy"
	probe := eval[map[string]any](p, `(() => {
		const v = connrulesEditor.view;
		const i = v.state.doc.toString().indexOf(`+"`"+anchor+"`"+`);
		if (i < 0) return {missing: true};
		delete globalThis.__probe;
		v.dispatch({changes: {from: i + `+fmt.Sprint(len(anchor))+`, insert: " z"}});
		queueMicrotask(() => {
			globalThis.__probe = {
				status: document.querySelector("#lint-status").className,
				policy: document.querySelector("#policy-state").textContent,
			};
		});
		return {};
	})()`)
	if probe["missing"] == true {
		t.Fatalf("the editor has no %q", anchor)
	}
	got := eval[map[string]string](p, `globalThis.__probe`)
	if got["status"] != "editor-status ok" {
		t.Errorf("right after the edit the lint status is %q, want %q (policy state %q)", got["status"], "editor-status ok", got["policy"])
	}
	p.waitLint()
}
