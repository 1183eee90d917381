// connrules playground. The engine and the lifecycle run in the Go
// WebAssembly module (connrules.wasm): globalThis.connrules is the engine,
// globalThis.connrulesSim the seeded network (see wasm/js/sim.go),
// and the editor's warnings and impact replay run in workers
// (impact-worker.js) on a second module, connrules-author.wasm
// (wasm/js/author.go, globalThis.connrulesAuthor), which the first
// decision does not wait for. The editor is CodeMirror 6, bundled into
// editor.bundle.js from web/editor. This file only renders and forwards
// clicks; it never decides anything.

const $ = (sel) => document.querySelector(sel);
const STORE_KEY = "connrules-demo-v1";
const IMPACT_DELAY_MS = 150; // warnings and impact wait for typing to pause
const LINT_BACKLOG_MS = 4; // a key this soon after a load's end was queued behind it (scheduleLint)

const state = {
  sim: null,
  seed: null,
  variants: [],
  file: "policies.yaml",
  good: null,           // {file, src} of the policy in force
  sender: "alice",
  recipient: "bob",
  view: null,
  last: null,           // the last action's result, shown until something else changes
  lastKey: 0,           // performance.now() of the last keystroke in the editor
  lintTimer: 0,
  lintQueued: false,    // a reload is queued as a microtask
  lintEnd: -Infinity,   // performance.now() when the last reload and render ended
  saveTimer: 0,
  player: null,
  editor: null,         // the CodeMirror editor (web/editor/src/main.js)
  base: null,           // {file, src} the impact panel compares the edit against
  impactTimer: 0,
  impactGen: 0,         // bumped by every edit: a stale impact run is dropped
  perf: {},
};

// ---------- small helpers ----------

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return e;
}

let tzFormat = null;
function fmtTime(iso, withDay = true) {
  if (!iso || iso.startsWith("0001-")) return "—";
  const d = new Date(iso);
  if (!tzFormat || tzFormat.zone !== state.view?.timezone) {
    const zone = state.view?.timezone || "America/Los_Angeles";
    tzFormat = {
      zone,
      full: new Intl.DateTimeFormat("en-US", { timeZone: zone, weekday: "short", month: "short", day: "numeric", year: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short" }),
      // The year stays in the short form too: a session crosses years, and
      // "May 31, 10:00 AM" is two different days a year apart.
      short: new Intl.DateTimeFormat("en-US", { timeZone: zone, month: "short", day: "numeric", year: "numeric", hour: "numeric", minute: "2-digit" }),
    };
  }
  return (withDay ? tzFormat.full : tzFormat.short).format(d);
}

function fmtDuration(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m`;
}

function toast(msg) {
  const t = $("#toast");
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 5000);
}

function member(id) { return state.view?.members.find((m) => m.id === id); }

// ---------- boot ----------

async function boot() {
  performance.mark("cr:boot");
  try {
    if (!("WebAssembly" in window)) throw new Error("This browser has no WebAssembly.");
    const go = new Go();
    // Compiling a policy allocates a few MB, and in WebAssembly the
    // collector is most of a compile's cost: collect only past 128 MiB.
    go.env = Object.assign({}, go.env, { GOGC: "off", GOMEMLIMIT: "128MiB" });
    const wasmURL = "connrules.wasm";
    const early = globalThis.connrulesEarly ?? {};
    const instP = (async () => {
      let mod;
      try {
        mod = await (early.module ?? WebAssembly.compileStreaming(fetch(wasmURL)));
      } catch (e) {
        // A server without application/wasm: fall back to bytes.
        mod = await WebAssembly.compile(await (await fetch(wasmURL)).arrayBuffer());
      }
      performance.mark("cr:wasm-compiled");
      return WebAssembly.instantiate(mod, go.importObject);
    })();
    const body = (url, r) => r.then((res) => { if (!res.ok) throw new Error(`${url}: ${res.status}`); return res.text(); });
    const text = (url, r) => body(url, r ?? fetch(url));
    // The policies come while the module compiles.
    const policiesP = early.policies?.catch(() => null).then((p) => p ?? policiesLate()) ?? policiesLate();
    async function policiesLate() {
      const raw = await text("policies/index.json");
      const index = JSON.parse(raw);
      const srcs = await Promise.all(index.map((v) => text("policies/" + v.file)));
      index.forEach((v, i) => { v.src = srcs[i]; });
      return index;
    }
    const [instance, seed, index] = await Promise.all([instP, text("seed.json", early.seed), policiesP]);
    performance.mark("cr:inputs-ready"); // the module instantiated, the seed and the policies here
    state.variants = index;
    go.run(instance); // main runs until it blocks; the globals exist from here on
    performance.mark("cr:wasm-ready");
    state.sim = globalThis.connrulesSim;
    state.seed = seed;
    start(seed, index[0]);
    // The workers start after the first decision, not to compete with it.
    state.author = startAuthor("impact-worker.js");
    state.linter = startAuthor("impact-worker.js?lint"); // the warnings never queue behind a replay
    // (their module, connrules-author.wasm, downloads while the editor is built)
  } catch (e) {
    console.error(e);
    const box = $("#loading");
    box.classList.add("failed");
    $("#loading-text").textContent = "The engine did not load: " + e.message + ". Run `make demo` and open the URL it prints.";
  }
}

function start(seed, def) {
  const sim = state.sim;
  let v = sim.start(seed, def.file, def.src); // the seed's view, until a saved session changes it
  performance.mark("cr:session");
  state.good = { file: def.file, src: def.src };
  let editor = def.src;
  const saved = readSaved();
  if (saved) {
    v = null;
    try {
      if (saved.journal?.length) sim.replay(saved.journal);
      if (saved.good && saved.good.src !== sim.policy().src) {
        const r = sim.load(saved.good.file, saved.good.src);
        if (!r.ok) throw new Error("the saved policy no longer loads");
      }
      const p = sim.policy();
      state.good = { file: p.file, src: p.src };
      state.file = p.file;
      editor = saved.editor ?? p.src;
      if (saved.sender) state.sender = saved.sender;
      if (saved.recipient) state.recipient = saved.recipient;
      if (saved.note) $("#note").value = saved.note;
    } catch (e) {
      console.warn("restoring the saved session failed", e);
      toast("Your saved session could not be restored (" + e.message + "); starting from the seed.");
      sim.start(seed, def.file, def.src);
      state.good = { file: def.file, src: def.src };
      editor = def.src;
    }
  }
  performance.mark("cr:restored");
  state.base = saved?.base ?? { ...state.good };
  buildVariants();
  bindEvents();
  fillPickers((v ?? sim.view()).members);
  render({ first: true });
  performance.mark("cr:first-decision");
  // The editor (CodeMirror), the lists, the members' table, the event log
  // and the scenarios come once the first decision has been painted: it
  // does not need them (the editor took ~100 ms more before it).
  afterPaint(() => {
    buildScenarios();
    renderLists(state.view);
    renderMembers(state.view);
    renderLog();
    startEditor(editor);
  });
}

// afterPaint runs f once, after the next frame is painted, or after 100 ms
// in a hidden tab, which paints no frames.
function afterPaint(f) {
  let done = false;
  const once = () => { if (!done) { done = true; f(); } };
  requestAnimationFrame(() => setTimeout(once, 0));
  setTimeout(once, 100);
}

// startEditor builds the policy editor on text, then marks the page ready.
function startEditor(text) {
  state.editor = globalThis.ConnrulesEditor.create($("#editor"), { doc: text, onChange: onEdit });
  globalThis.connrulesEditor = state.editor; // a hook for the browser tests and the console
  if (text === state.good.src) showPolicyOK(state.sim.info()); else lint({ initial: true });
  scheduleWarnings();
  document.body.dataset.ready = "1";
  $("#app").setAttribute("aria-busy", "false");
  performance.mark("cr:editor");
  reportPerf();
}

function readSaved() {
  try {
    const raw = localStorage.getItem(STORE_KEY);
    return raw ? JSON.parse(raw) : null;
  } catch { return null; }
}

// save writes the session to localStorage: at once after an action, and
// a moment after typing stops. The journal is the whole network state.
function save({ later = false } = {}) {
  clearTimeout(state.saveTimer);
  if (later) { state.saveTimer = setTimeout(saveNow, 300); return; }
  saveNow();
}

function saveNow() {
  clearTimeout(state.saveTimer);
  if (!state.sim) return;
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify({
      v: 1, journal: state.sim.journal(), good: state.good, base: state.base, editor: state.editor.getValue(),
      sender: state.sender, recipient: state.recipient, note: $("#note").value,
    }));
  } catch (e) { console.warn("saving to localStorage failed", e); }
}
addEventListener("pagehide", saveNow);

function reportPerf() {
  const nav = performance.getEntriesByType("navigation")[0];
  const res = performance.getEntriesByType("resource").find((r) => r.name.endsWith("/connrules.wasm"));
  const first = performance.getEntriesByName("cr:first-decision")[0].startTime;
  const ready = performance.getEntriesByName("cr:wasm-ready")[0].startTime;
  const dcl = nav ? nav.domContentLoadedEventEnd : 0;
  state.perf = {
    wasm_transfer_bytes: res ? res.transferSize : 0,
    wasm_encoded_bytes: res ? res.encodedBodySize : 0,
    wasm_decoded_bytes: res ? res.decodedBodySize : 0,
    wasm_fetch_ms: res ? res.responseEnd - res.startTime : 0,
    engine_ready_ms: ready,
    first_decision_ms: first,
    first_decision_after_dcl_ms: first - dcl,
    wasm_response_end_ms: res ? res.responseEnd : 0,
    dom_content_loaded_ms: dcl,
  };
  globalThis.__connrulesPerf = state.perf;
  const mb = (n) => (n / 1048576).toFixed(2) + " MB";
  $("#perf").textContent = res
    ? `engine ${mb(res.encodedBodySize)} over the wire (${mb(res.decodedBodySize)} unpacked) · engine ready at ${ready.toFixed(0)} ms · first decision at ${first.toFixed(0)} ms (${(first - dcl).toFixed(0)} ms after the page loaded)`
    : `first decision at ${first.toFixed(0)} ms`;
  try {
    const v = globalThis.connrules.version();
    $("#version").textContent = `connrules ABI ${v.abi} · ${v.go}`;
  } catch { /* the engine global is optional for the page */ }
}

// ---------- policy editor ----------

function buildVariants() {
  const box = $("#variants");
  box.replaceChildren();
  for (const v of state.variants) {
    box.append(el("button", {
      type: "button", class: "btn small", "aria-pressed": String(v.file === state.file), dataset: { file: v.file },
      title: `Load ${v.file} into the editor`,
      onclick: () => {
        state.file = v.file;
        state.base = { file: v.file, src: v.src };
        state.lastKey = performance.now();
        state.editor.setValue(v.src);
        clearTimeout(state.lintTimer); // lint at once: the old policy's figures must not linger
        lint({});
        for (const b of box.children) b.setAttribute("aria-pressed", String(b.dataset.file === v.file));
        toast(`Loaded ${v.title || v.file}.`);
      },
    }, v.title || v.file));
  }
}

function onEdit() {
  state.lastKey = performance.now();
  state.impactGen++;
  scheduleLint();
}

// scheduleLint reloads the policy in the task of the keystroke itself,
// before the frame that paints the typed character: the character and
// the new decisions appear in one frame. A timer, even of 0 ms, ran only
// after the editor's frame, 8-50 ms later (RATIONALE, "Why the page
// reloads in the keystroke's task"). Keys that arrive while a load runs
// queue up; each of those would load in turn, so a key handled right
// behind a load goes to a timer, which coalesces them into one load.
function scheduleLint() {
  clearTimeout(state.lintTimer);
  const st = $("#lint-status");
  st.className = "editor-status busy";
  // (navigator.scheduling.isInputPending does not tell a backlog: the
  // key's own keyup is pending while its keydown edits.)
  if (performance.now() - state.lintEnd < LINT_BACKLOG_MS) {
    state.lintTimer = setTimeout(() => lint({}), 0);
    return;
  }
  if (state.lintQueued) return; // one load for the edits of one task
  state.lintQueued = true;
  queueMicrotask(() => { if (state.lintQueued) lint({}); }); // unless a direct lint() ran first
}

function lint({ initial = false }) {
  clearTimeout(state.lintTimer); // this load covers a queued reload's edits too
  state.lintQueued = false;
  const t0 = performance.now();
  const src = state.editor.getValue();
  const res = state.sim.load(state.file, src);
  const loaded = performance.now();
  const st = $("#lint-status");
  const errs = $("#errors");
  errs.replaceChildren();
  if (res.ok) {
    state.editor.setProblems([], []); // the warnings follow once typing pauses
    state.good = { file: state.file, src };
    showPolicyOK(res);
  } else {
    st.className = "editor-status bad";
    const n = res.errors.length;
    $("#policy-state").textContent = `${n} error${n === 1 ? "" : "s"} — the last good policy “${res.name}” is still in force`;
    state.editor.setProblems(res.errors, []);
    for (const e of res.errors) {
      errs.append(el("li", { class: "error-item", dataset: { line: e.pos.line, column: e.pos.column } },
        el("button", { type: "button", title: "Go to this line", onclick: () => gotoLine(e.pos.line, e.pos.column) }, `line ${e.pos.line}:${e.pos.column}`),
        " ", e.rule ? `rule “${e.rule}”: ` : "", e.message,
        e.snippet ? el("pre", {}, e.snippet) : null));
    }
  }
  state.last = null;
  if (res.ok) scheduleWarnings(); else showImpact(null, "The edit does not load: no impact until it does.");
  state.lintEnd = performance.now();
  if (initial) return;
  const tr = performance.now();
  render({ policyOnly: true });
  state.perf.render_ms = performance.now() - tr;
  if (state.lastKey) {
    const ms = performance.now() - state.lastKey;
    $("#timing").textContent = `keystroke → decision: ${ms.toFixed(0)} ms (compile ${(res.compile_us / 1000).toFixed(0)} ms)`;
    $("#timing").dataset.ms = ms.toFixed(1);
    state.perf.keystroke_ms = ms;
    state.perf.compile_ms = res.compile_us / 1000;
    // Where the rest went: waiting for the lint to run, and the call
    // into the module around the load.
    state.perf.lint_wait_ms = t0 - state.lastKey;
    state.perf.load_call_ms = loaded - t0;
  }
  state.lintEnd = performance.now();
  save({ later: true });
}

function showPolicyOK(res) {
  $("#lint-status").className = "editor-status ok";
  $("#policy-state").replaceChildren(`Policy “${res.name}” in force · ${res.rules} rules`,
    res.compile_us ? el("span", { class: "timing" }, ` · compiled in ${(res.compile_us / 1000).toFixed(1)} ms`) : "");
  // The count shown belongs to the policy it was run on: a new policy
  // clears it at once, and its own tests run as soon as the page is idle.
  const out = $("#tests");
  if (state.testedSrc !== state.good.src) {
    out.textContent = "policy tests: running…";
    out.dataset.state = "running";
    out.style.color = "";
  }
  if (!state.testsScheduled) {
    state.testsScheduled = true;
    const idle = globalThis.requestIdleCallback || ((f) => setTimeout(f, 0));
    idle(() => { state.testsScheduled = false; runTests(); }, { timeout: 250 });
  }
}

function runTests() {
  try {
    const src = state.good.src;
    const t = state.sim.tests();
    const out = $("#tests");
    state.testedSrc = src;
    out.dataset.state = "done";
    out.dataset.tests = String(t.tests);
    out.textContent = `policy tests: ${t.passed}/${t.tests} pass`;
    out.title = t.failed?.length ? "Failing: " + t.failed.join("; ") : "Every test in the policy's tests: block passes";
    out.style.color = t.passed === t.tests ? "var(--ok)" : "var(--bad)";
  } catch (e) { console.warn(e); }
}

function gotoLine(line, col = 1) {
  state.editor.gotoLine(line, col);
}

// startAuthor starts a worker that runs the lint warnings or the impact
// replay (impact-worker.js) on its own copy of the module. call(op,
// ...args) answers a promise. Without workers, the same calls run here,
// on the authoring module loaded into the page beside the engine's.
function startAuthor(url) {
  let w = null;
  try { w = new Worker(url); } catch (e) { console.warn("no worker: the impact replay runs on the page", e); }
  if (!w) {
    const ready = loadAuthorHere().then(() => fetch("sample.jsonl.gz")).then((r) => (r.ok ? r.arrayBuffer() : null))
      .then((b) => { if (b) globalThis.connrulesAuthor.setSample(new Uint8Array(b)); }).catch((e) => console.warn(e));
    return { call: async (op, ...args) => { await ready; return globalThis.connrulesAuthor[op](...args); } };
  }
  let next = 0;
  const waiting = new Map();
  w.onmessage = (e) => {
    const p = waiting.get(e.data.id);
    waiting.delete(e.data.id);
    if (!p) return;
    if (e.data.error !== undefined) p.reject(new Error(e.data.error)); else p.resolve(e.data.ok);
  };
  w.onerror = (e) => { console.warn("impact worker", e.message); };
  return {
    call: (op, ...args) => new Promise((resolve, reject) => {
      const id = ++next;
      waiting.set(id, { resolve, reject });
      w.postMessage({ id, op, args });
    }),
  };
}

// loadAuthorHere runs connrules-author.wasm on the page, once: a second Go
// instance that only adds globalThis.connrulesAuthor.
function loadAuthorHere() {
  loadAuthorHere.p ??= (async () => {
    const go = new Go();
    const { instance } = await WebAssembly.instantiate(await (await fetch("connrules-author.wasm")).arrayBuffer(), go.importObject);
    go.run(instance);
  })();
  return loadAuthorHere.p;
}

// scheduleWarnings runs the lint warnings and the impact replay once
// typing pauses, in the worker. One run at a time: an edit while one runs
// starts the next when it ends, and a stale answer is dropped.
function scheduleWarnings() {
  clearTimeout(state.impactTimer);
  $("#impact").dataset.state = "pending";
  state.impactTimer = setTimeout(runAuthor, IMPACT_DELAY_MS);
}

async function runAuthor() {
  if (state.authorBusy) { state.authorAgain = true; return; }
  const gen = state.impactGen;
  const src = state.editor.getValue();
  if (src !== state.good.src) { $("#impact").dataset.state = "none"; return; } // does not load: lint() shows the errors
  state.authorBusy = true;
  try {
    const t0 = performance.now();
    const session = state.sim.events();
    // Two workers: the impact and the warnings run side by side.
    const rP = state.author.call("impact", state.file, src, state.base.file, state.base.src, session);
    const wP = state.linter.call("lint", state.file, src);
    wP.catch(() => {}); // its failure is reported below, after the impact's
    const r = await rP;
    if (gen === state.impactGen) {
      state.perf.impact_ms = performance.now() - t0;
      showImpact(r);
      if (state.lastKey) {
        const ms = performance.now() - state.lastKey;
        state.perf.keystroke_impact_ms = ms;
        $("#impact-timing").textContent = `keystroke → impact: ${ms.toFixed(0)} ms (replay ${(r.us / 1000).toFixed(0)} ms, in a worker)`;
        $("#impact").dataset.ms = ms.toFixed(1);
      }
    }
    const w = await wP;
    if (gen === state.impactGen) {
      state.editor.setProblems([], w.warnings);
      state.perf.warnings_us = w.us;
      $("#impact").dataset.warnings = String(w.warnings.length);
    }
  } catch (e) {
    if (gen === state.impactGen) showImpact(null, e.message.replace(/^connrulesAuthor: /, ""));
  } finally {
    state.authorBusy = false;
    if (state.authorAgain || gen !== state.impactGen) { state.authorAgain = false; scheduleWarnings(); }
  }
}

function showImpact(r, why = "") {
  const box = $("#impact");
  const sum = $("#impact-summary");
  const list = $("#impact-flips");
  list.replaceChildren();
  if (!r) { box.dataset.state = "none"; sum.textContent = why; return; }
  const n = r.session.flips + r.sample.flips;
  const m = r.session.decisions + r.sample.decisions;
  box.dataset.state = "done";
  box.dataset.flips = String(n);
  box.dataset.sampleFlips = String(r.sample.flips);
  box.dataset.sessionFlips = String(r.session.flips);
  sum.replaceChildren(el("strong", {}, `This edit changes ${n} of ${m} decisions`),
    ` against “${state.base.file}”: ${r.session.flips} of ${r.session.decisions} in this session, ${r.sample.flips} of ${r.sample.decisions} in the sample log.`);
  for (const [source, rep] of [["session", r.session], ["sample", r.sample]]) {
    for (const t of rep.transitions || []) {
      list.append(el("li", { class: "flip-group" },
        el("span", { class: "flip-head" }, `${t.count} × ${t.from.outcome}/${t.from.reason} → ${t.to.outcome}/${t.to.reason}`, el("span", { class: "muted" }, ` (${source})`)),
        el("span", { class: "flip-ex" }, ...t.examples.map((x) => el("button", {
          type: "button", class: "btn small ghost", dataset: { source, line: x.line },
          title: `Explain: ${x.stage} ${x.sender}${x.recipient ? " → " + x.recipient : ""} at ${fmtTime(x.at, false)} (log line ${x.line})`,
          onclick: () => explainFlip(source, x),
        }, `${x.sender}${x.recipient ? "→" + x.recipient : ""}`)))));
    }
  }
}

async function explainFlip(source, x) {
  let r;
  try { r = await state.author.call("explain", source, x.line); } catch (e) { toast(e.message); return; }
  const trace = (d) => el("ol", { class: "trace" }, ...(d.trace || []).map((tr) => el("li", {
    class: (tr.held ? "held" : "") + (tr.rule === d.rule ? " decided" : ""), dataset: { rule: tr.rule, held: tr.held },
  }, el("span", { class: "mark" }, tr.held ? "✓" : "·"), tr.rule, tr.error ? el("span", { class: "err" }, " error: " + tr.error) : null)));
  $("#decision-title").textContent = `Flip: ${x.stage} ${x.sender}${x.recipient ? " → " + x.recipient : ""}`;
  $("#decision-sub").textContent = `${source} log line ${x.line}, at ${fmtTime(x.at, false)}`;
  const brief = (d) => el("dl", { class: "kv" }, el("dt", {}, "outcome"), el("dd", {}, d.outcome), el("dt", {}, "reason"), el("dd", {}, d.reason),
    el("dt", {}, "rule"), el("dd", {}, d.rule || "(default)"), el("dt", {}, "message"), el("dd", {}, d.message || ""));
  $("#sender-view").replaceChildren(el("p", { class: "muted small" }, "A recorded decision, re-decided on its recorded facts: the sender saw"),
    el("p", {}, r.old.message || "(nothing)"), el("p", { class: "muted small" }, "and would now see"), el("p", {}, r.new.message || "(nothing)"));
  $("#operator-view").replaceChildren(el("h4", {}, "Before"), brief(r.old), el("h4", {}, "After the edit"), brief(r.new));
  $("#explain").replaceChildren(
    el("div", { class: "flip-explain", dataset: { side: "old" } }, el("h4", {}, `Before (${state.base.file}): ${r.old.outcome}/${r.old.reason}`), trace(r.old)),
    el("div", { class: "flip-explain", dataset: { side: "new" } }, el("h4", {}, `After the edit: ${r.new.outcome}/${r.new.reason}`), trace(r.new)));
  $("#explain-box").open = true;
  $("#explain-box").scrollIntoView({ block: "nearest" });
}

// ---------- actions ----------

function act(cmd, { quiet = false, persist = true } = {}) {
  try {
    const r = state.sim.do(cmd);
    if (persist) save();
    scheduleWarnings(); // the session's log grew: its decisions count in the impact
    return r;
  } catch (e) {
    if (!quiet) toast(e.message.replace(/^connrulesSim: /, ""));
    return null;
  } finally {
    // Counts commands, so tests and tools can tell when one has been applied.
    document.body.dataset.commands = String(Number(document.body.dataset.commands || 0) + 1);
  }
}

function actAndShow(cmd, title) {
  const r = act(cmd);
  if (r) state.last = { ...r, title, pair: [state.sender, state.recipient] };
  render();
  return r;
}

function advance(duration) {
  const r = act({ op: "advance", duration });
  if (r) { state.last = null; render(); noteExpired(r); }
}

function noteExpired(r) {
  const n = r.result?.expired?.length || 0;
  if (n) toast(`${n} pending invitation${n === 1 ? "" : "s"} expired.`);
}

function jumpToNextReset() {
  const t = state.view?.next_reset;
  if (!t) { toast("The sender has no reset ahead."); return; }
  const r = act({ op: "set_time", time: t });
  if (r) { state.last = null; render(); toast("Jumped to " + fmtTime(t)); noteExpired(r); }
}

function bindEvents() {
  // A note is written to one recipient: a new pair starts with none.
  $("#sender").addEventListener("change", (e) => { state.sender = e.target.value; pairChanged(); });
  $("#recipient").addEventListener("change", (e) => { state.recipient = e.target.value; pairChanged(); });
  $("#btn-swap").addEventListener("click", () => {
    [state.sender, state.recipient] = [state.recipient, state.sender];
    $("#sender").value = state.sender; $("#recipient").value = state.recipient;
    pairChanged();
  });
  let noteTimer = 0;
  $("#note").addEventListener("input", () => { clearTimeout(noteTimer); noteTimer = setTimeout(() => { state.last = null; render(); save({ later: true }); }, 120); });
  $("#btn-connect").addEventListener("click", () => {
    actAndShow({ op: "invite", from: state.sender, to: state.recipient, note: $("#note").value }, `${state.sender} invited ${state.recipient}`);
  });
  $("#btn-block").addEventListener("click", () => actAndShow({ op: "block", from: state.recipient, to: state.sender }, `${state.recipient} blocked ${state.sender}`));
  $("#btn-unblock").addEventListener("click", () => actAndShow({ op: "unblock", from: state.recipient, to: state.sender }, `${state.recipient} unblocked ${state.sender}`));
  $("#btn-remove").addEventListener("click", () => actAndShow({ op: "remove", from: state.sender, to: state.recipient }, `${state.sender} removed ${state.recipient}`));
  $("#btn-h").addEventListener("click", () => advance("1h"));
  $("#btn-d").addEventListener("click", () => advance("1d"));
  $("#btn-w").addEventListener("click", () => advance("1w"));
  $("#btn-next-reset").addEventListener("click", jumpToNextReset);
  $("#btn-edit-sender").addEventListener("click", () => editMember(state.sender));
  $("#btn-edit-recipient").addEventListener("click", () => editMember(state.recipient));
  $("#btn-download").addEventListener("click", downloadLog);
  $("#btn-reset").addEventListener("click", () => {
    if (!confirm("Restore the seed network? The policy in the editor stays.")) return;
    state.sim.reset();
    state.last = null;
    closePlayer();
    render(); save();
    toast("Back to the seed network.");
  });
  $("#member-dialog").addEventListener("close", saveMemberDialog);
  $("#btn-step").addEventListener("click", () => stepPlayer());
  $("#btn-run").addEventListener("click", () => runPlayer());
  $("#btn-stop").addEventListener("click", closePlayer);
}

function pairChanged() {
  $("#note").value = "";
  state.last = null;
  render();
  save();
}

function fillPickers(members) {
  for (const [sel, cur] of [["#sender", state.sender], ["#recipient", state.recipient]]) {
    const s = $(sel);
    const keep = s.value || cur;
    s.replaceChildren(...members.map((m) => el("option", { value: m.id }, `${m.id} · ${m.company || "—"}${m.kind === "company" ? " (page)" : ""}`)));
    s.value = members.some((m) => m.id === keep) ? keep : members[0].id;
  }
  state.sender = $("#sender").value;
  state.recipient = $("#recipient").value;
}

// ---------- rendering ----------

// render redraws the page from the simulation. After a policy edit only
// what a policy can change is redrawn: the decision and the meters (the
// limits come from the policy). The first render (first) draws what the
// first decision's frame shows; start() renders the rest after it.
function render({ policyOnly = false, first = false } = {}) {
  const sim = state.sim;
  let v;
  try {
    v = sim.view(state.sender, state.recipient);
  } catch (e) { toast(e.message); return; }
  state.view = v;
  if (policyOnly) {
    renderDecision();
    renderMeters(v);
    $("#btn-next-reset").disabled = !v.next_reset;
    return;
  }
  if ($("#sender").options.length !== v.members.length) fillPickers(v.members);
  $("#clock-now").textContent = fmtTime(v.now);
  $("#clock-now").setAttribute("datetime", v.now);
  $("#net-summary").textContent = `${v.members.length} members · ${v.members.reduce((n, m) => n + m.connections.length, 0) / 2} connections · ${v.blocks.length} block${v.blocks.length === 1 ? "" : "s"}`;
  renderCard("#sender-card", member(state.sender), v);
  renderCard("#recipient-card", member(state.recipient), v);
  renderPairButtons();
  renderPair(v.pair);
  renderDecision();
  renderMeters(v);
  $("#btn-next-reset").disabled = !v.next_reset;
  if (first) return;
  renderLists(v);
  renderMembers(v);
  renderLog();
}

// The pair's buttons say who acts on whom: the recipient blocks the
// sender, the sender removes the connection.
function renderPairButtons() {
  const s = state.sender, r = state.recipient;
  const label = (sel, text, title) => { const b = $(sel); b.textContent = text; b.title = title; };
  label("#btn-block", `${r} blocks ${s}`, `The recipient, ${r}, blocks the sender, ${s}`);
  label("#btn-unblock", `${r} unblocks ${s}`, `The recipient, ${r}, lifts their block of the sender, ${s}`);
  label("#btn-remove", "Remove connection", `${s} removes the connection with ${r}`);
}

function renderCard(sel, m, v) {
  const box = $(sel);
  if (!m) { box.replaceChildren(); return; }
  const badges = [
    el("span", { class: "badge " + (m.tier === "premium" ? "premium" : "") }, m.tier),
    m.kind === "company" ? el("span", { class: "badge warn" }, "company page") : null,
    m.status !== "active" ? el("span", { class: "badge bad" }, m.status.replace("_", " ")) : null,
    m.restricted ? el("span", { class: "badge bad" }, "restricted") : null,
  ];
  const s = m.settings || {};
  const settings = [s.invitations || "everyone"];
  if (s.companies?.length) settings.push("companies: " + s.companies.join(", "));
  if (s.schools?.length) settings.push("schools: " + s.schools.join(", "));
  if (s.require_confirmation) settings.push("confirms first");
  if (s.auto_accept?.companies?.length || s.auto_accept?.schools?.length) settings.push("auto-accepts " + [...(s.auto_accept.companies || []), ...(s.auto_accept.schools || [])].join(", "));
  box.replaceChildren(
    el("div", { class: "name" }, m.id, " ", ...badges),
    el("div", {}, `${m.company || "—"} · ${m.school || "—"} · `, el("span", { class: "muted" }, m.email || "no email")),
    el("div", { class: "muted" }, `${m.connections.length} connection${m.connections.length === 1 ? "" : "s"} · invitations: ${settings.join("; ")}`),
  );
}

function renderPair(p) {
  const box = $("#pair-info");
  if (!p) { box.replaceChildren(); return; }
  const deg = { 0: "outside the network", 1: "1st degree", 2: "2nd degree", 3: "3rd degree" }[p.degree] ?? `degree ${p.degree}`;
  const facts = [
    el("span", { class: "fact", id: "pair-degree", dataset: { degree: p.degree } }, "Degree: ", el("b", {}, deg)),
    el("span", { class: "fact", id: "pair-mutual", dataset: { mutual: p.mutual } }, "Mutual: ", el("b", {}, String(p.mutual)), p.mutual_ids.length ? ` (${p.mutual_ids.join(", ")})` : ""),
    el("span", { class: "fact", id: "pair-email", dataset: { known: p.knows_email } }, "Email known: ", el("b", {}, p.knows_email ? "yes" : "no")),
    p.in_contacts ? el("span", { class: "fact" }, "In recipient's contacts") : null,
    p.connected ? el("span", { class: "fact badge ok", id: "pair-connected" }, "Connected") : null,
    p.blocked ? el("span", { class: "fact badge bad", id: "pair-blocked" }, "Blocked") : null,
    p.pending ? el("span", { class: "fact badge warn" }, "Invitation pending") : null,
  ];
  box.replaceChildren(...facts.filter(Boolean));
}

function renderDecision() {
  const t0 = performance.now();
  let decisions, pub, title, sub;
  const last = state.last;
  if (last && last.pair[0] === state.sender && last.pair[1] === state.recipient) {
    title = last.title;
    sub = "at " + fmtTime(last.now, false);
    decisions = last.decisions || [];
    pub = last.public;
    if (!decisions.length) {
      // Actions the engine does not decide (block, withdraw...): show what happened.
      renderSimple(last);
      return;
    }
  } else {
    let pv;
    try {
      pv = state.sim.preview(state.sender, state.recipient, $("#note").value);
    } catch (e) {
      $("#sender-view").replaceChildren(el("p", { class: "muted" }, e.message));
      $("#operator-view").replaceChildren();
      $("#explain").replaceChildren();
      return;
    }
    title = "Preview";
    sub = [`what happens if ${state.sender} invites ${state.recipient} now`, el("span", { class: "timing" }, ` · decided in ${(pv.us / 1000).toFixed(2)} ms`)];
    decisions = pv.decisions;
    pub = pv.public;
  }
  $("#decision-title").textContent = title;
  $("#decision-sub").replaceChildren(...[].concat(sub));
  // The sender's view.
  const sv = $("#sender-view");
  if (pub && pub.outcome) {
    sv.replaceChildren(...[
      el("div", { class: "bubble " + pub.outcome, id: "public-message", dataset: { outcome: pub.outcome } }, pub.message),
      pub.retry_after ? el("div", { class: "retry" }, "Try again after " + fmtTime(pub.retry_after)) : null,
    ].filter(Boolean));
  } else if (last && last.op === "accept") {
    const d = decisions[0];
    sv.replaceChildren(el("div", { class: "bubble " + (d.outcome === "allow" ? "allow" : "deny"), id: "public-message" }, d.message));
  } else {
    sv.replaceChildren(el("p", { class: "muted" }, "Nothing is shown to the sender."));
  }
  // The operator's view: each stage that ran.
  const ov = $("#operator-view");
  ov.replaceChildren(...decisions.map((d, i) => {
    const stage = stageOf(d, i, last);
    return el("div", { class: "stage-block", dataset: { stage } },
      el("dl", { class: "kv" },
        el("dt", {}, "stage"), el("dd", {}, stage),
        el("dt", {}, "outcome"), el("dd", { class: "outcome " + d.outcome, "data-field": "outcome" }, d.outcome),
        el("dt", {}, "reason"), el("dd", { "data-field": "reason" }, d.reason),
        el("dt", {}, "rule"), el("dd", { "data-field": "rule" }, d.rule || "(default)"),
        d.private ? [el("dt", {}, "private"), el("dd", {}, "yes: the sender sees the generic message")] : null,
        el("dt", {}, "message"), el("dd", { "data-field": "message" }, d.message || "—"),
        d.retry_after ? [el("dt", {}, "retry_after"), el("dd", {}, fmtTime(d.retry_after))] : null,
        d.effects?.length ? [el("dt", {}, "effects"), el("dd", {}, d.effects.map((e) => `${e.kind} ${e.subject}${e.until ? " until " + fmtTime(e.until) : ""}`).join("; "))] : null,
        d.diagnostics?.length ? [el("dt", {}, "diagnostics"), el("dd", {}, d.diagnostics.map((x) => `${x.rule}: ${x.message}`).join("; "))] : null,
      ));
  }));
  // Explain: every rule of every stage that ran.
  $("#explain").replaceChildren(...decisions.map((d, i) => el("div", {},
    el("h4", {}, stageOf(d, i, last)),
    el("ol", { class: "trace" }, ...(d.trace || []).map((tr) => el("li", {
      class: (tr.held ? "held" : "") + (tr.rule === d.rule ? " decided" : ""),
      dataset: { rule: tr.rule, held: tr.held },
    }, el("span", { class: "mark", "aria-label": tr.held ? "held" : "did not hold" }, tr.held ? "✓" : "·"), tr.rule,
    tr.error ? el("span", { class: "err" }, " error: " + tr.error) : null))),
    (d.trace || []).length === 0 ? el("p", { class: "muted small" }, "No trace.") : null,
  )));
  state.perf.decision_render_ms = performance.now() - t0;
}

function stageOf(d, i, last) {
  if (last && last.op === "accept") return "accept";
  return ["invite", "deliver", "accept"][i] || "stage";
}

function renderSimple(last) {
  $("#decision-title").textContent = last.title;
  $("#decision-sub").textContent = "at " + fmtTime(last.now, false);
  const r = last.result;
  let text = "Done.";
  if (last.op === "block") text = `Blocked. ${r?.withdrawn?.length || 0} pending invitation(s) withdrawn${r?.disconnected ? ", connection removed" : ""}. The blocked member is not told.`;
  else if (last.op === "unblock") text = "Unblocked. A connection removed by the block is not restored.";
  else if (last.op === "remove") text = r ? "Connection removed." : "They were not connected.";
  else if (last.op === "withdraw") text = "Invitation withdrawn.";
  else if (last.op === "ignore") text = "Ignored. The sender is not told; the ignore counts toward the resend wait.";
  else if (last.op === "reject") text = "Rejected. The sender is told, and can't invite this member again.";
  $("#sender-view").replaceChildren(el("p", { class: "muted" }, last.op === "reject" ? "The sender is told the invitation was declined." : "Nothing is shown to the sender."));
  $("#operator-view").replaceChildren(el("p", {}, text));
  $("#explain").replaceChildren(el("p", { class: "muted small" }, "The engine decides invitations and acceptances; this action needed no decision."));
}

function invLine(inv, who) {
  return el("span", {}, el("span", { class: "who" }, who), " · ", fmtTime(inv.sent_at, false),
    inv.delivery && inv.delivery !== "inbox" ? [" ", el("span", { class: "badge " + (inv.delivery === "spam" ? "bad" : "warn") }, inv.delivery.replace("_", " "))] : null,
    inv.status !== "pending" ? [" ", el("span", { class: "badge" + (inv.status === "accepted" ? " ok" : "") }, inv.status)] : null,
    inv.note ? el("div", { class: "muted" }, "“" + inv.note + "”") : null);
}

// inPlace runs an action from a list and keeps the list where it was on
// screen: the decision panel above it changes height when the action
// redraws it, and the clicked row disappears, so the browser's own scroll
// anchoring has nothing to hold on to. Focus moves to the list's next
// button (or its heading) without scrolling.
function inPlace(listSel, fn) {
  const list = $(listSel);
  const head = list.closest("section").querySelector("h3");
  const before = head.getBoundingClientRect().top;
  const r = fn();
  const moved = head.getBoundingClientRect().top - before;
  if (Math.abs(moved) >= 1) window.scrollBy({ left: 0, top: moved, behavior: "instant" });
  const next = list.querySelector("button") || head;
  if (next === head) head.tabIndex = -1;
  next.focus({ preventScroll: true });
  return r;
}

function renderLists(v) {
  const inbox = v.invitations.filter((i) => i.to === state.recipient && i.delivery !== "shadow" && i.delivery);
  const pending = inbox.filter((i) => i.status === "pending").slice(0, 20);
  const closed = inbox.filter((i) => i.status !== "pending").slice(0, 5);
  const ib = $("#inbox");
  ib.replaceChildren(...pending.map((inv) => el("li", { dataset: { id: inv.id, from: inv.from } }, invLine(inv, "from " + inv.from),
    el("div", { class: "btnrow" },
      el("button", { type: "button", class: "btn small primary accept", "aria-label": `Accept ${inv.from}'s invitation`, onclick: () => inPlace("#inbox", () => actAndShow({ op: "accept", id: inv.id }, `${inv.to} accepted ${inv.from}'s invitation`)) }, "Accept"),
      el("button", { type: "button", class: "btn small ignore", "aria-label": `Ignore ${inv.from}'s invitation`, onclick: () => inPlace("#inbox", () => actAndShow({ op: "ignore", id: inv.id }, `${inv.to} ignored ${inv.from}'s invitation`)) }, "Ignore"),
      el("button", { type: "button", class: "btn small reject", "aria-label": `Reject ${inv.from}'s invitation`, onclick: () => inPlace("#inbox", () => actAndShow({ op: "reject", id: inv.id }, `${inv.to} rejected ${inv.from}'s invitation`)) }, "Reject"),
    ))), ...closed.map((inv) => el("li", { class: "closed" }, invLine(inv, "from " + inv.from))));
  if (!pending.length && !closed.length) ib.append(el("li", { class: "empty" }, `${state.recipient} has no invitations.`));
  // The sender's own view: an ignored or blocked invitation reads pending.
  const sent = v.sent || [];
  const sp = sent.filter((i) => i.status === "pending").slice(0, 20);
  const sc = sent.filter((i) => i.status !== "pending").slice(0, 5);
  const sb = $("#sent");
  sb.replaceChildren(...sp.map((inv) => el("li", { dataset: { id: inv.id, to: inv.to } }, invLine(inv, "to " + inv.to),
    el("div", { class: "btnrow" }, el("button", { type: "button", class: "btn small withdraw", "aria-label": `Withdraw the invitation to ${inv.to}`, onclick: () => inPlace("#sent", () => actAndShow({ op: "withdraw", id: inv.id }, `${state.sender} withdrew the invitation to ${inv.to}`)) }, "Withdraw")))),
  ...sc.map((inv) => el("li", { class: "closed" }, invLine(inv, "to " + inv.to))));
  if (!sp.length && !sc.length) sb.append(el("li", { class: "empty" }, `${state.sender} has sent no invitations.`));
}

function meterRow(label, w, key) {
  const limited = w.limit > 0;
  const pct = limited ? Math.min(100, (w.used / w.limit) * 100) : 0;
  return el("div", { class: "meter" + (limited && w.remaining === 0 ? " full" : ""), dataset: { window: key, used: w.used, remaining: w.remaining, limit: w.limit } },
    el("div", { class: "top" },
      el("span", {}, el("b", {}, label), limited ? ` ${w.used} / ${w.limit}` : ` ${w.used} sent`),
      el("span", { class: "remaining" }, limited ? `${w.remaining} left` : "no limit")),
    el("div", { class: "track", role: "meter", "aria-label": `${label}: ${w.used} of ${limited ? w.limit : "unlimited"} used`, "aria-valuemin": "0", "aria-valuemax": String(limited ? w.limit : 1), "aria-valuenow": String(limited ? w.used : 0) },
      el("div", { class: "fill", style: `width:${pct}%` })),
    el("div", { class: "reset" }, w.resets_at ? "resets " + fmtTime(w.resets_at, false) : key === "hour" ? "rolling" : ""));
}

function renderMeters(v) {
  const s = member(state.sender), r = member(state.recipient);
  const box = $("#meters-sender");
  if (s) {
    const mt = s.meter;
    box.replaceChildren(
      el("div", { class: "meters-title" }, `${s.id}'s quota `, el("span", { class: "badge " + (s.tier === "premium" ? "premium" : "") }, s.tier),
        el("span", { class: "muted small" }, mt.available >= 0 ? ` · ${mt.available} more now` : " · no limit")),
      meterRow("Today", mt.day, "day"), meterRow("This week", mt.week, "week"), meterRow("This month", mt.month, "month"),
      el("div", { class: "muted small", id: "meter-hour" }, `Last hour: ${mt.hour.used} sent · over-limit attempts this week: ${mt.over_limit} · connections: ${mt.connections}${mt.connection_limit ? " / " + mt.connection_limit : ""}`),
    );
  }
  const rb = $("#restriction");
  if (s && s.restricted) {
    rb.replaceChildren(el("div", { class: "box" }, `${s.id} is restricted`,
      el("span", { class: "count", id: "restriction-left" }, fmtDuration(s.restricted_left_s) + " left"),
      el("span", { class: "small" }, "until " + fmtTime(s.restricted_until))));
  } else rb.replaceChildren();
  const rbx = $("#meters-recipient");
  if (r && r.id !== s?.id) {
    rbx.replaceChildren(el("div", { class: "muted small" },
      `${r.id}: ${r.meter.day.used} sent today, ${r.meter.connections} connection${r.meter.connections === 1 ? "" : "s"}${r.restricted ? ", restricted for " + fmtDuration(r.restricted_left_s) : ""}`));
  } else rbx.replaceChildren();
}

function renderMembers(v) {
  const tb = $("#members");
  tb.replaceChildren(...v.members.map((m) => el("tr", { class: m.id === state.sender ? "sel-s" : m.id === state.recipient ? "sel-r" : "", dataset: { id: m.id } },
    el("td", {}, el("b", {}, m.id), m.status !== "active" ? el("div", { class: "badge bad" }, m.status.replace("_", " ")) : null, m.restricted ? el("div", { class: "badge bad" }, "restricted") : null),
    el("td", {}, m.kind === "company" ? "page" : m.tier),
    el("td", {}, `${m.company || "—"} · ${m.school || "—"}`),
    el("td", {}, (m.settings?.invitations || "everyone").replaceAll("_", " ")),
    el("td", {}, el("button", { type: "button", class: "btn small ghost", "aria-label": `Edit ${m.id}`, onclick: () => editMember(m.id) }, "Edit")),
  )));
}

function renderLog() {
  let evs = [];
  try { evs = state.sim.eventsTail(40); } catch { /* no session */ }
  const box = $("#log");
  box.start = state.view?.events || evs.length;
  box.replaceChildren(...evs.reverse().map((e) => el("li", {},
    el("span", { class: "seq" }, String(e.seq)),
    el("span", {}, fmtTime(e.at, false), " ", el("b", {}, e.action), " ", e.actor || "", e.subject ? " → " + e.subject : "",
      e.result ? [" ", el("span", { class: "res" }, e.result)] : null,
      e.decision?.rule ? ` (${e.decision.rule})` : ""))));
}

function downloadLog() {
  const blob = new Blob([state.sim.events()], { type: "application/x-ndjson" });
  const a = el("a", { href: URL.createObjectURL(blob), download: "connrules-events.jsonl" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// ---------- member editing ----------

function editMember(id) {
  const m = member(id);
  if (!m) return;
  const f = $("#member-form");
  const tiers = new Set(["free", "premium", m.tier]);
  f.tier.replaceChildren(...[...tiers].map((t) => el("option", {}, t)));
  const s = m.settings || {};
  f.id.value = m.id; f.email.value = m.email || ""; f.kind.value = m.kind || "person"; f.tier.value = m.tier;
  f.status.value = m.status || "active"; f.acceptance_rate.value = m.acceptance_rate ?? 0.5;
  f.company.value = m.company || ""; f.school.value = m.school || "";
  f.invitations.value = s.invitations || "everyone"; f.require_confirmation.checked = !!s.require_confirmation;
  f.companies.value = (s.companies || []).join(", "); f.schools.value = (s.schools || []).join(", ");
  f.aa_companies.value = (s.auto_accept?.companies || []).join(", "); f.aa_schools.value = (s.auto_accept?.schools || []).join(", ");
  $("#h-member-dialog").textContent = "Edit " + m.id;
  $("#member-dialog").showModal();
}

function list(s) { return s.split(",").map((x) => x.trim()).filter(Boolean); }

function saveMemberDialog() {
  const dlg = $("#member-dialog");
  if (dlg.returnValue !== "save") return;
  const f = $("#member-form");
  const m = {
    id: f.id.value, email: f.email.value.trim(), kind: f.kind.value, tier: f.tier.value, status: f.status.value,
    acceptance_rate: Number(f.acceptance_rate.value) || 0, company: f.company.value.trim(), school: f.school.value.trim(),
    settings: {
      invitations: f.invitations.value, require_confirmation: f.require_confirmation.checked,
      companies: list(f.companies.value), schools: list(f.schools.value),
      auto_accept: { companies: list(f.aa_companies.value), schools: list(f.aa_schools.value) },
    },
  };
  if (act({ op: "member", member: m })) {
    state.last = null;
    render();
    toast(`Saved ${m.id}.`);
  }
}

// ---------- scenarios ----------

// Each scenario starts from the seed under the policy in force and tells
// one story of the seeds; the same stories run as examples/scenarios in CI.
// A step returns a line for the step list.
const MAX_LOOP = 3000;

function pick(sender, recipient) {
  state.sender = sender; state.recipient = recipient;
  $("#sender").value = sender; $("#recipient").value = recipient;
}

function inviteStep(from, to, note = "") {
  const r = act({ op: "invite", from, to, note });
  if (!r) return "failed";
  state.last = { ...r, title: `${from} invited ${to}`, pair: [from, to] };
  const d = r.decisions?.[0] || r.result.invite;
  return `${d.outcome}${d.rule ? " · " + d.rule : ""}${r.result.invitation?.delivery ? " · " + r.result.invitation.delivery : ""}`;
}

// sendUntil invites and withdraws until the window is used up, moving to
// the next day when the day's quota is spent if crossDays is set. A week
// of a premium quota is hundreds of commands: they run in slices that
// yield to the browser, so the page stays responsive and shows progress,
// and the session is saved once at the end rather than after each one.
async function sendUntil(from, to, windowKey, crossDays) {
  const owner = state.player;
  const meter = () => state.sim.view(from, to).members.find((m) => m.id === from).meter;
  let mt = meter();
  if (mt[windowKey].limit === 0) return `0 sent; this policy has no ${windowKey} limit`;
  const total = mt[windowKey].remaining;
  let sent = 0;
  let slice = performance.now();
  progress(`${from} sends and withdraws invitations`, 0, total);
  try {
    for (let i = 0; i < MAX_LOOP && mt[windowKey].remaining > 0; i++) {
      const dayFull = mt.day.limit > 0 && mt.day.remaining === 0;
      if (dayFull) {
        if (!crossDays) break;
        act({ op: "set_time", time: mt.day.resets_at }, { quiet: true, persist: false });
        mt = meter();
        continue;
      }
      // What the window and the day still allow, sent without a view each.
      let n = mt[windowKey].remaining;
      if (mt.day.limit > 0) n = Math.min(n, mt.day.remaining);
      for (let k = 0; k < n; k++) {
        const r = act({ op: "invite", from, to }, { quiet: true, persist: false });
        if (!r || r.result.invite.outcome === "deny") return `${sent} sent, then refused: ${r?.result.invite.rule}`;
        sent++;
        act({ op: "withdraw", id: r.result.invitation.id }, { quiet: true, persist: false });
        if (performance.now() - slice > 40) {
          progress(`${from} sends and withdraws invitations`, sent, total);
          await new Promise((res) => setTimeout(res, 0));
          slice = performance.now();
          if (state.player !== owner) throw new Error("stopped");
        }
      }
      mt = meter();
    }
  } finally {
    progress();
    save();
  }
  return `${sent} sent and withdrawn`;
}

// progress shows how far a long step is, or hides the bar when called
// without arguments.
function progress(label, done, total) {
  const box = $("#player-progress");
  if (label === undefined) { box.hidden = true; return; }
  box.hidden = false;
  const bar = box.querySelector("progress");
  bar.max = Math.max(total, 1);
  bar.value = done;
  box.querySelector("span").textContent = `${label}: ${done} of ${total}`;
}

function lastRetry() { return state.last?.public?.retry_after || state.last?.result?.invite?.retry_after; }

const SCENARIOS = [
  {
    id: "daily", story: "daily_limit.yaml", title: "Hit the daily limit",
    steps: [
      ["alice picks bob", () => { pick("alice", "bob"); return "2nd degree via carol"; }],
      ["alice sends (and withdraws) invitations until today's quota is used", () => sendUntil("alice", "bob", "day", false)],
      ["One more invitation", () => inviteStep("alice", "bob")],
      ["Jump to the next reset", () => { const t = state.sim.view("alice", "bob").next_reset; act({ op: "set_time", time: t }); return fmtTime(t, false); }],
      ["Invite again", () => inviteStep("alice", "bob")],
    ],
  },
  {
    id: "weekly", story: "weekly_limit_restriction.yaml", title: "Exceed the weekly limit",
    steps: [
      ["carol (premium) picks judy", () => { pick("carol", "judy"); return "2nd degree via alice"; }],
      ["carol uses the week's quota, day after day", () => sendUntil("carol", "judy", "week", true)],
      ["The next day, same week", () => {
        const mt = state.sim.view("carol", "judy").members.find((m) => m.id === "carol").meter;
        if (mt.day.remaining !== 0) return "today's quota is not used up";
        act({ op: "set_time", time: mt.day.resets_at });
        return fmtTime(mt.day.resets_at, false);
      }],
      ["One more invitation: over the weekly limit", () => inviteStep("carol", "judy")],
      ["Try again: restricted", () => inviteStep("carol", "judy")],
      ["Jump to the end of the restriction", () => { const t = lastRetry(); if (!t) return "no restriction"; act({ op: "set_time", time: t }); return fmtTime(t, false); }],
      ["Invite again", () => inviteStep("carol", "judy")],
    ],
  },
  {
    id: "blocked", story: "blocked_generic.yaml", title: "Blocked",
    steps: [
      ["bob blocks alice", () => { pick("alice", "bob"); const r = act({ op: "block", from: "bob", to: "alice" }); state.last = r && { ...r, title: "bob blocked alice", pair: ["alice", "bob"] }; return r ? "blocked" : "failed"; }],
      ["alice invites bob: she sees only the generic message", () => inviteStep("alice", "bob")],
      ["bob unblocks alice", () => { const r = act({ op: "unblock", from: "bob", to: "alice" }); return r ? "unblocked" : "failed"; }],
      ["alice invites bob again", () => inviteStep("alice", "bob")],
    ],
  },
  {
    id: "auto", story: "auto_accept.yaml", title: "Auto-accept",
    steps: [
      ["dave auto-accepts anyone from Acme; alice works at Acme", () => { pick("alice", "dave"); return "dave: auto_accept companies [Acme]"; }],
      ["alice invites dave", () => inviteStep("alice", "dave", "Hi Dave, fellow Acme alum here.")],
    ],
  },
  {
    id: "ignored", story: "ignore_cooldown.yaml", title: "Ignored three times",
    steps: (() => {
      const s = [["alice picks grace", () => { pick("alice", "grace"); return "2nd degree via judy"; }]];
      for (let n = 1; n <= 3; n++) {
        s.push([`Invitation ${n}`, () => inviteStep("alice", "grace")]);
        s.push([`grace ignores it`, () => {
          const inv = state.sim.view("alice", "grace").pair.pending;
          if (!inv) return "nothing pending";
          const r = act({ op: "ignore", id: inv });
          return r ? "ignored" : "failed";
        }]);
        // grace's ignore is never shown to alice: her invitation still reads
        // pending, so only after withdrawing it does the cooldown answer.
        s.push([`alice tries again at once: hers still looks pending`, () => inviteStep("alice", "grace")]);
        s.push([`alice withdraws it`, () => {
          const inv = (state.sim.view("alice", "grace").sent || []).find((i) => i.to === "grace" && i.status === "pending");
          if (!inv) return "nothing pending";
          const r = act({ op: "withdraw", id: inv.id });
          return r ? "withdrawn" : "failed";
        }]);
        s.push([`alice tries again`, () => inviteStep("alice", "grace")]);
        if (n < 3) s.push([`Jump to the end of the wait`, () => { const t = lastRetry(); if (!t) return "no wait"; act({ op: "set_time", time: t }); return fmtTime(t, false); }]);
      }
      return s;
    })(),
  },
  {
    id: "softban", story: "soft_banned.yaml", title: "Soft-banned sender",
    steps: [
      ["ivan is soft-banned; he invites carol", () => { pick("ivan", "carol"); return inviteStep("ivan", "carol"); }],
      ["carol's inbox: nothing arrived", () => { pick("ivan", "carol"); const v = state.sim.view("ivan", "carol"); return `${v.invitations.filter((i) => i.to === "carol" && i.delivery !== "shadow" && i.status === "pending").length} visible to carol`; }],
    ],
  },
];

function buildScenarios() {
  const box = $("#scenarios");
  box.replaceChildren(...SCENARIOS.map((sc) => el("button", {
    type: "button", class: "btn small", dataset: { scenario: sc.id }, onclick: () => openPlayer(sc),
    title: `Replay on the seed network; the same story runs in CI as examples/scenarios/${sc.story}`,
  }, sc.title)));
}

function openPlayer(sc) {
  state.sim.reset();
  state.last = null;
  state.player = { sc, i: 0, results: [] };
  $("#player").hidden = false;
  renderPlayer();
  render();
  save();
  $("#btn-step").focus();
  toast(`Scenario “${sc.title}”: the seed network is restored.`);
}

function renderPlayer() {
  const p = state.player;
  if (!p) return;
  $("#player").dataset.step = String(p.i);
  $("#player").dataset.busy = p.busy ? "1" : "0";
  $("#player").setAttribute("aria-busy", String(!!p.busy));
  $("#player-title").replaceChildren(el("b", {}, p.sc.title), el("span", { class: "muted small" }, ` · step ${Math.min(p.i, p.sc.steps.length)} of ${p.sc.steps.length} · the same story as examples/scenarios/${p.sc.story}`));
  $("#player-steps").replaceChildren(...p.sc.steps.map(([label], i) => el("li", { class: i < p.i ? "done" : i === p.i ? "current" : "", "aria-current": i === p.i ? "step" : null },
    label, p.results[i] ? [" → ", el("span", { class: "res" }, p.results[i])] : null)));
  const done = p.i >= p.sc.steps.length;
  $("#btn-step").disabled = done || p.busy;
  $("#btn-run").disabled = done || p.busy;
}

// stepPlayer runs the next step; a step may be async (it then shows its
// progress), and the buttons wait for it.
async function stepPlayer() {
  const p = state.player;
  if (!p || p.busy || p.i >= p.sc.steps.length) return;
  const [, fn] = p.sc.steps[p.i];
  p.busy = true;
  renderPlayer();
  let res;
  try { res = await fn(); } catch (e) { res = "error: " + e.message; }
  p.busy = false;
  if (state.player !== p) return; // closed or replaced meanwhile
  p.results[p.i] = res;
  p.i++;
  renderPlayer();
  render();
}

async function runPlayer() {
  const p = state.player;
  while (p && state.player === p && p.i < p.sc.steps.length) {
    await stepPlayer();
    await new Promise((r) => setTimeout(r, 250));
  }
}

function closePlayer() {
  state.player = null;
  $("#player").hidden = true;
  progress();
}

boot();
