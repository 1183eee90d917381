// The editor's background worker: connrules-author.wasm (wasm/js built
// with -tags author: globalThis.connrulesAuthor, see wasm/js/author.go)
// runs the lint warnings and the impact replay, so the page answers keystrokes while a replay runs.
// The page starts two: one for the replay, one ("?lint") for the warnings.
// Messages: {id, op: "lint"|"impact"|"explain", args: [...]} -> {id, ok} | {id, error}.
importScripts("wasm_exec.js");

const ready = (async () => {
  const go = new Go();
  go.env = Object.assign({}, go.env, { GOGC: "off", GOMEMLIMIT: "128MiB" });
  const url = "connrules-author.wasm";
  let inst;
  try {
    inst = await WebAssembly.instantiateStreaming(fetch(url), go.importObject);
  } catch {
    inst = await WebAssembly.instantiate(await (await fetch(url)).arrayBuffer(), go.importObject);
  }
  go.run(inst.instance);
  if (location.search === "?lint") return { sampleLines: 0 }; // the warnings' worker needs no sample
  const sample = await fetch("sample.jsonl.gz").then((r) => (r.ok ? r.arrayBuffer() : null)).catch(() => null);
  return { sampleLines: sample ? globalThis.connrulesAuthor.setSample(new Uint8Array(sample)) : 0 };
})();

onmessage = async (e) => {
  const { id, op, args } = e.data;
  try {
    const info = await ready;
    if (op === "ready") { postMessage({ id, ok: info }); return; }
    const a = globalThis.connrulesAuthor;
    if (op !== "lint" && op !== "impact" && op !== "explain") throw new Error("unknown op " + op);
    postMessage({ id, ok: a[op](...args) });
  } catch (err) {
    postMessage({ id, error: String(err && err.message || err) });
  }
};
