#!/bin/sh
# Split GGUF sets, against two readers that are not ckpt's:
#  - @huggingface/gguf (ggufAllShards) parses every file of the sets that
#    ckpt-convert (f32, by tensor count) and ckpt-quant (Q4_K_M, by size)
#    write: split.no / split.count (u16) and split.tensors.count (i32) in
#    every file, the first file's other keys exactly the single file's
#    (its recipe less the split limit it records),
#    nothing else in the later ones, and every tensor's padded data
#    (located by that parser's offsets) the same SHA-256 as in the file
#    written without a split;
#  - llama.cpp loads each set given its first file and its greedy tokens
#    equal the single file's; on f32 they also equal the reference forward
#    pass's golden tokens (ref-greedy.json).
set -eu
kit=tiny-mixtral
m=$DATA/models/$kit
"$BIN/ckpt-convert" -q -t f32 -o "$TMP/one.gguf" "$m"
"$BIN/ckpt-convert" -q -t f32 --split-max-tensors 7 -o "$TMP/set.gguf" "$m"
first=$(ls "$TMP"/set-00001-of-*.gguf)
"$BIN/ckpt-quant" -q -t Q4_K_M -o "$TMP/q.gguf" "$TMP/one.gguf"
"$BIN/ckpt-quant" -q -t Q4_K_M --split-max-size 200K -o "$TMP/qs.gguf" "$first"
qfirst=$(ls "$TMP"/qs-00001-of-*.gguf)
echo "# $(ls "$TMP"/set-*.gguf | wc -l) f32 files, $(ls "$TMP"/qs-*.gguf | wc -l) Q4_K_M files"
cd "$(dirname "${LLAMA#node }")"
node --input-type=module -e '
    import {gguf, ggufAllShards} from "@huggingface/gguf";
    import {readFileSync} from "node:fs";
    import {createHash} from "node:crypto";
    const [single, first] = process.argv.slice(1);
    const skip = new Set(["version", "tensor_count", "kv_count"]);
    const keys = (md) => Object.keys(md).filter((k) => !skip.has(k));
    /* a value as text; the recipe of the set records its split limit (it
     * changes the bytes), and is otherwise that of the single file */
    const val = (md, k, set) => {
        let v = md[k];
        if (k === "general.source.ckpt.recipe") {
            const r = JSON.parse(v), last = r.steps[r.steps.length - 1];
            if (set && (last.split_max_tensors !== 7 || "split_max_size" in last))
                fail(`recipe of the set: ${JSON.stringify(last)}, want split_max_tensors 7`);
            if (!set && r.steps.some((st) => "split_max_tensors" in st || "split_max_size" in st))
                fail("recipe of the single file records a split");
            r.steps.forEach((st) => { delete st.split_max_tensors; });
            v = JSON.stringify(r);
        }
        return JSON.stringify(v, (_, x) => typeof x === "bigint" ? String(x) : x);
    };
    /* padded tensor data by name, as this parser locates it */
    function chunks(path, info) {
        const b = readFileSync(path), out = {};
        const t = [...info.tensorInfos].sort((x, y) => Number(x.offset - y.offset));
        t.forEach((x, i) => {
            const start = info.tensorDataOffset + x.offset;
            const end = i + 1 < t.length ? info.tensorDataOffset + t[i + 1].offset : BigInt(b.length);
            out[x.name] = createHash("sha256").update(b.subarray(Number(start), Number(end))).digest("hex");
        });
        return out;
    }
    const one = await gguf(single, {allowLocalFile: true, typedMetadata: true});
    const all = await ggufAllShards(first, {allowLocalFile: true, typedMetadata: true});
    const n = all.shards.length, want = chunks(single, one);
    let bad = 0, seen = 0;
    const fail = (m) => { bad++; console.log(m); };
    all.shards.forEach((s, i) => {
        const tm = s.typedMetadata;
        const check = (k, type, v) => {
            if (!tm[k] || tm[k].type !== type || Number(tm[k].value) !== v)
                fail(`${all.urls[i]}: ${k} = ${JSON.stringify(tm[k], (_, x) => typeof x === "bigint" ? Number(x) : x)}, want type ${type} value ${v}`);
        };
        check("split.no", 2, i);          /* GGUFValueType.UINT16 */
        check("split.count", 2, n);
        check("split.tensors.count", 5, one.tensorInfos.length); /* INT32 */
        const got = keys(s.metadata).filter((k) => !k.startsWith("split."));
        const exp = i === 0 ? keys(one.metadata) : [];
        if (JSON.stringify(got) !== JSON.stringify(exp))
            fail(`${all.urls[i]}: keys ${got.length}, want ${exp.length}`);
        if (i === 0)
            for (const k of exp)
                if (val(s.metadata, k, true) !== val(one.metadata, k, false))
                    fail(`${k} differs`);
        const c = chunks(all.urls[i], s);
        for (const [name, h] of Object.entries(c)) {
            seen++;
            if (want[name] !== h)
                fail(`${all.urls[i]}: tensor ${name} data differs from the single file`);
        }
    });
    if (seen !== one.tensorInfos.length)
        fail(`${seen} tensors in the set, ${one.tensorInfos.length} in the single file`);
    console.log(`# ${first}: ${n} files, ${seen} tensors checked`);
    process.exit(bad ? 1 : 0);
' "$TMP/one.gguf" "$first"
node --input-type=module -e '
    import {gguf, ggufAllShards} from "@huggingface/gguf";
    const [single, first] = process.argv.slice(1);
    const one = await gguf(single, {allowLocalFile: true});
    const all = await ggufAllShards(first, {allowLocalFile: true});
    const n = all.shards.reduce((a, s) => a + s.tensorInfos.length, 0);
    if (n !== one.tensorInfos.length || all.shards.length < 2) {
        console.log(`${first}: ${all.shards.length} files, ${n} tensors, want ${one.tensorInfos.length}`);
        process.exit(1);
    }
' "$TMP/q.gguf" "$qfirst"
cd - >/dev/null
node -e '
    const fs = require("fs");
    const [tmp, data, kit, first, qfirst] = process.argv.slice(1);
    const r = JSON.parse(fs.readFileSync(`${data}/golden/${kit}/ref-greedy.json`, "utf8"));
    const jobs = [];
    for (const [model, golden] of [[`${tmp}/one.gguf`, true], [first, true],
                                   [`${tmp}/q.gguf`, false], [qfirst, false]])
        for (const p of r.prompts)
            jobs.push({op: "greedy", model, ids: p.ids, n: r.n_new_tokens, index: p.index,
                       want: golden ? (p.exceeds_window ? p.generated_ids_no_window : p.generated_ids) : null});
    fs.writeFileSync(`${tmp}/jobs.json`, JSON.stringify(jobs));
' "$TMP" "$DATA" "$kit" "$first" "$qfirst"
$LLAMA multi "$TMP/jobs.json" >"$TMP/got.json"
node -e '
    const fs = require("fs");
    const jobs = JSON.parse(fs.readFileSync(`${process.argv[1]}/jobs.json`, "utf8"));
    const got = JSON.parse(fs.readFileSync(`${process.argv[1]}/got.json`, "utf8"));
    const n = jobs.length / 4;
    let bad = 0;
    for (let i = 0; i < n; i++) {
        const [one, set, q, qs] = [got[i], got[n + i], got[2 * n + i], got[3 * n + i]];
        const s = JSON.stringify;
        if (s(one) !== s(jobs[i].want)) { bad++; console.log(`f32 single, prompt ${i}: ${one} want ${jobs[i].want}`); }
        if (s(set) !== s(one)) { bad++; console.log(`f32 split set, prompt ${i}: ${set} want ${one}`); }
        if (s(qs) !== s(q)) { bad++; console.log(`Q4_K_M split set, prompt ${i}: ${qs} want ${q}`); }
    }
    console.log(`# llama.cpp: split sets equal the single files on ${n - bad}/${n} prompts (f32 and Q4_K_M)`);
    process.exit(bad ? 1 : 0);
' "$TMP"
