// run.js drives the js build of connrules under Node for the Go tests and
// for connrules bench. It reads one JSON job from stdin and writes one
// JSON answer to stdout:
//
//   node wasm/js/run.js $(go env GOROOT)/lib/wasm/wasm_exec.js connrules-js.wasm < job.json
//
// job: {"mode": "conform", "policies": [{"file", "src"}],
//       "cases": [{"policy": i, "explain": bool, "request": base64}],
//       "batches": [{"policy": i, "explain": bool, "requests": base64}]}
//   -> {"version", "loads": [json...], "decisions": [json...], "batches": [json...]}
// job: {"mode": "bench", "policies": [one], "request": base64, "batch": n, "seconds": s}
//   -> {"version", "decide_ns": ..., "batch_ns_each": ..., "cold_start_ms": ...}
"use strict";

const t0 = performance.now();
// Unlike wasm_exec_node.js, this gives the Go runtime no real file system:
// wasm_exec.js then installs the same synchronous stub a browser gets.
// With Node's asynchronous fs, time.LoadLocation (which looks for
// /usr/share/zoneinfo before the embedded tzdata) would block inside a
// JavaScript-to-Go call and deadlock.
const fs = require("fs");
globalThis.TextEncoder ??= require("util").TextEncoder;
globalThis.TextDecoder ??= require("util").TextDecoder;
globalThis.performance ??= require("perf_hooks").performance;
globalThis.crypto ??= require("crypto").webcrypto;

const [wasmExec, modulePath] = process.argv.slice(2);
if (!wasmExec || !modulePath) {
  console.error("usage: node run.js WASM_EXEC_JS MODULE_WASM < job.json");
  process.exit(2);
}
require(wasmExec);

const b64 = (s) => new Uint8Array(Buffer.from(s, "base64"));

async function main() {
  const job = JSON.parse(fs.readFileSync(0, "utf8"));
  const go = new Go();
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(modulePath), go.importObject);
  go.run(instance); // main installs globalThis.connrules, then waits for calls
  const cr = globalThis.connrules;
  if (!cr) throw new Error("the module did not install globalThis.connrules");
  const out = { version: cr.version() };
  const loads = [];
  let current = -1;
  const use = (i) => {
    if (i === current) return;
    const p = job.policies[i];
    const ans = cr.loadJSON(p.src, p.file);
    if (JSON.parse(ans).error !== undefined) throw new Error("policy " + p.file + " does not load: " + ans);
    current = i;
  };
  if (job.mode === "conform") {
    for (const p of job.policies) loads.push(cr.loadJSON(p.src, p.file));
    current = -1;
    out.loads = loads;
    out.decisions = job.cases.map((c) => {
      use(c.policy);
      return cr.decideJSON(b64(c.request), c.explain);
    });
    out.batches = (job.batches || []).map((b) => {
      use(b.policy);
      return cr.decideBatchJSON(b64(b.requests), b.explain);
    });
    // The object API and the errors, on the first policy.
    use(0);
    out.tests = cr.testJSON();
    const checks = {};
    const req = JSON.parse(Buffer.from(job.cases[0].request, "base64").toString("utf8"));
    checks.decide = JSON.stringify(cr.decide(req));
    checks.decideString = JSON.stringify(cr.decide(JSON.stringify(req), { explain: true }));
    checks.decideBatch = JSON.stringify(cr.decideBatch([req, JSON.stringify(req)]));
    checks.loadErrors = cr.load("version: 1\nstages: {}\n", "bad.yaml").map((e) => `${e.pos.file}:${e.pos.line}:${e.pos.column}: ${e.message}`);
    const thrown = (f) => { try { f(); return "no error"; } catch (e) { return `${e.constructor.name} ${e.code}: ${e.message}`; } };
    checks.badBatch = thrown(() => cr.decideBatchJSON("{}"));
    checks.badRequestType = thrown(() => cr.decideJSON(42));
    checks.version = cr.version();
    out.checks = checks;
  } else if (job.mode === "bench") {
    use(0);
    const req = b64(job.request);
    cr.decideJSON(req, false);
    out.cold_start_ms = performance.now() - t0;
    const seconds = job.seconds || 1;
    let n = 0, start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      for (let i = 0; i < 100; i++) cr.decideJSON(req, false);
      n += 100;
    }
    out.decide_ns = ((performance.now() - start) * 1e6) / n;
    const parts = [];
    for (let i = 0; i < job.batch; i++) parts.push(Buffer.from(job.request, "base64").toString("utf8"));
    const batch = "[" + parts.join(",") + "]";
    n = 0; start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      cr.decideBatchJSON(batch, false);
      n += job.batch;
    }
    out.batch_ns_each = ((performance.now() - start) * 1e6) / n;
  } else {
    throw new Error("unknown mode " + job.mode);
  }
  fs.writeSync(1, JSON.stringify(out)); // synchronous: process.exit would cut an asynchronous write
  process.exit(0);
}

main().catch((err) => {
  console.error(err && err.stack || String(err));
  process.exit(1);
});
