// gguf_same.mjs A.gguf B.gguf - the two files hold the same model, as
// Hugging Face's GGUF reader (@huggingface/gguf) reads them: every metadata
// key but the general.source.* pointers (which name the source files)
// equal in type and value, and every tensor (by name, in whatever order
// the files list them) of the same type, shape and bytes.  F32 and F16
// tensors only.  Prints what differs; exit 1 if anything does.
import { gguf } from "@huggingface/gguf";
import { openSync, readSync, closeSync } from "node:fs";

const [a, b] = process.argv.slice(2);
const json = (x) => JSON.stringify(x, (k, v) => (typeof v === "bigint" ? v.toString() : v));
const bytesPer = { 0: 4, 1: 2 }; // GGML_TYPE_F32, GGML_TYPE_F16

async function load(path) {
    const g = await gguf(path, { allowLocalFile: true });
    const meta = Object.fromEntries(Object.entries(g.metadata).filter(([k]) => !k.startsWith("general.source.")));
    const fd = openSync(path, "r");
    const tensors = new Map();
    for (const t of g.tensorInfos) {
        if (!(t.dtype in bytesPer)) throw new Error(`${path}: ${t.name} is not F32 or F16`);
        const n = t.shape.reduce((x, y) => x * Number(y), 1) * bytesPer[t.dtype];
        const buf = Buffer.alloc(n);
        readSync(fd, buf, 0, n, Number(g.tensorDataOffset + t.offset));
        tensors.set(t.name, { dtype: t.dtype, shape: json(t.shape), data: buf });
    }
    closeSync(fd);
    return { meta, tensors };
}

const [x, y] = [await load(a), await load(b)];
let bad = 0;
for (const k of new Set([...Object.keys(x.meta), ...Object.keys(y.meta)]))
    if (json(x.meta[k]) !== json(y.meta[k])) { bad++; console.log(`metadata ${k} differs`); }
for (const name of new Set([...x.tensors.keys(), ...y.tensors.keys()])) {
    const p = x.tensors.get(name), q = y.tensors.get(name);
    if (!p || !q || p.dtype !== q.dtype || p.shape !== q.shape || !p.data.equals(q.data)) {
        bad++;
        console.log(`tensor ${name} differs`);
    }
}
process.exit(bad ? 1 : 0);
