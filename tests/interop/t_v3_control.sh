#!/bin/sh
# v3 SentencePiece control tokens (Mistral 7B v0.3's vocabulary layout:
# [INST] [/INST] [TOOL_CALLS] ... [control_8]..[control_765] at ids 3..767,
# tests/gen_v3_tokenizer.c from tiny-mistral), against two tokenizers that are
# not ckpt's, on a corpus of several hundred strings (the golden strings and
# others, bare and with control spellings around and inside them, and
# spellings that are near misses):
#  - @huggingface/tokenizers on the fixture's tokenizer.json (which always
#    matches added tokens) gives the ids ckpt gives with --parse-special;
#  - llama.cpp (node-llama-cpp tokenize) on the GGUF ckpt-convert writes
#    gives ckpt's ids with special parsing on and with it off, on that GGUF
#    and on the model directory; off, no control id ever comes out of text;
#  - the GGUF ckpt writes from the same model in Mistral's layout
#    (tokenizer.model.v3) tokenizes the same way in llama.cpp;
#  - the resized model computes what tiny-mistral did: ckpt-run's greedy ids
#    are the PyTorch golden ones with every id above 2 moved up by 765, and
#    llama.cpp's on the converted f32 GGUF are its own goldens moved the same
#    way (prompts within the sliding window, which llama.cpp does not have).
set -eu
mkdir -p "$TMP/v3" "$TMP/v3ml"
"$TESTBIN/gen_v3_tokenizer" "$DATA/models/tiny-mistral" "$TMP/v3"
"$TESTBIN/gen_mistral_layout" "$TMP/v3" "$TMP/v3ml"
"$BIN/ckpt-convert" -q -t f32 -o "$TMP/v3.gguf" "$TMP/v3"
"$BIN/ckpt-convert" -q -t f32 -o "$TMP/v3ml.gguf" "$TMP/v3ml"
# node-llama-cpp tests its binary in a child process started with node's own
# arguments, so the script is a file; beside the driver, to find the modules
mods=$(dirname "${LLAMA#node }")
script=$mods/t_v3_control.$$.mjs
trap 'rm -f "$script"' EXIT
cat >"$script" <<'JS'

    import {readFileSync, writeFileSync} from "node:fs";
    import {execFileSync} from "node:child_process";
    import {Tokenizer} from "@huggingface/tokenizers";
    import {getLlama, LlamaLogLevel} from "node-llama-cpp";
    const [tmp, data, bin] = process.argv.slice(2);
    const golden = readFileSync(`${data}/golden/tiny-mistral/tokenizer.tsv`, "utf8").split("\n")
        .slice(1).filter((l) => l).map((l) => JSON.parse(l.split("\t")[0]));
    const more = ["Hello world", "def f(x):\n    return x", "naïve café", "Ünïcödé", "12345 678",
                  "a  b   c", "\ttab", "line\nline", "", " ", "x", "[", "]", "[]", "é"];
    const ctrl = ["[INST]", "[/INST]", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]",
                  "[TOOL_RESULTS]", "[/TOOL_RESULTS]", "[control_8]", "[control_100]", "[control_765]"];
    const near = ["[INST", "INST]", "[/INST ]", "[ INST]", "[inst]", "[control_7]", "[control_766]",
                  "[control_08]", "[control_]", "[[INST]]", "[INST][INST]", "<s>", "</s>", "<unk>",
                  "[INST]]", "[/[INST]"];
    const corpus = [];
    for (const b of [...golden, ...more]) {
        corpus.push(b);
        corpus.push(`[INST] ${b} [/INST]`);
        corpus.push(`[INST]${b}[/INST]`);
    }
    golden.forEach((b, i) => corpus.push(`${b}${ctrl[i % ctrl.length]}${b.slice(0, 7)}`));
    for (const c of [...ctrl, ...near]) {
        corpus.push(c, ` ${c}`, `${c} `, `x${c}y`, `\n${c}\n`);
    }
    corpus.push(ctrl.join(""), ctrl.join(" "), near.join(""), near.join(" "));
    const hf = new Tokenizer(JSON.parse(readFileSync(`${tmp}/v3/tokenizer.json`, "utf8")),
                             JSON.parse(readFileSync(`${tmp}/v3/tokenizer_config.json`, "utf8")));
    const ckpt = (src, special, text) => {
        const args = ["--tokenize", ...(special ? ["--parse-special"] : []), src, "-p", text];
        const out = execFileSync(`${bin}/ckpt-run`, args, {encoding: "utf8"}).trim();
        return out ? out.split(" ").map(Number) : [];
    };
    const noBos = (ids) => (ids[0] === 1 ? ids.slice(1) : ids);
    const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
    const m = await llama.loadModel({modelPath: `${tmp}/v3.gguf`, vocabOnly: true});
    const mm = await llama.loadModel({modelPath: `${tmp}/v3ml.gguf`, vocabOnly: true});
    const s = JSON.stringify;
    let bad = 0, withCtrl = 0;
    const fail = (msg) => { if (bad++ < 20) console.log(msg); };
    for (const text of corpus) {
        const h = noBos(hf.encode(text).ids);
        const cs = noBos(ckpt(`${tmp}/v3`, true, text)), cn = noBos(ckpt(`${tmp}/v3`, false, text));
        const gs = noBos(ckpt(`${tmp}/v3.gguf`, true, text)), gn = noBos(ckpt(`${tmp}/v3.gguf`, false, text));
        const ls = Array.from(m.tokenize(text, true)), ln = Array.from(m.tokenize(text, false));
        const ms = Array.from(mm.tokenize(text, true)), mn = Array.from(mm.tokenize(text, false));
        const q = s(text);
        if (s(h) !== s(cs)) fail(`${q}: HF ${h} ckpt --parse-special ${cs}`);
        if (s(ls) !== s(cs)) fail(`${q}: llama.cpp special ${ls} ckpt ${cs}`);
        if (s(ln) !== s(cn)) fail(`${q}: llama.cpp plain ${ln} ckpt ${cn}`);
        if (s(gs) !== s(cs) || s(gn) !== s(cn)) fail(`${q}: ckpt on the GGUF ${gs} / ${gn}, on the dir ${cs} / ${cn}`);
        if (s(ms) !== s(ls) || s(mn) !== s(ln)) fail(`${q}: Mistral-layout GGUF ${ms} / ${mn}`);
        if (cn.some((id) => id >= 3 && id < 768)) fail(`${q}: a control id from plain text: ${cn}`);
        if (cs.some((id) => id >= 3 && id < 768)) withCtrl++;
    }
    await m.dispose(); await mm.dispose(); await llama.dispose();
    console.log(`# ${corpus.length} strings (${withCtrl} with control tokens parsed): HF tokenizers, llama.cpp and ckpt agree on ${corpus.length - bad}`);
    process.exit(bad ? 1 : 0);
JS
node "$script" "$TMP" "$DATA" "$BIN"
# the resized model: the golden greedy ids, moved past the 765 control ids
node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const up = (a) => a.map((t) => (t > 2 ? t + 765 : t)).join(" ");
    for (const p of r.prompts.filter((q) => !q.exceeds_window).slice(0, 4))
        console.log(up(p.ids) + "\t" + up(p.generated_ids.slice(0, 16)));
' "$DATA/golden/tiny-mistral/ref-greedy.json" >"$TMP/greedy.tsv"
n=0
while IFS='	' read -r ids want; do
    got=$("$BIN/ckpt-run" -q --ids -n 16 "$TMP/v3" -p "$ids")
    [ "$got" = "$want" ] || { echo "greedy: got $got want $want"; exit 1; }
    n=$((n + 1))
done <"$TMP/greedy.tsv"
echo "# resized model: golden greedy ids on $n prompts"
node -e '
    const fs = require("fs");
    const [tmp, data] = process.argv.slice(1);
    const r = JSON.parse(fs.readFileSync(`${data}/golden/tiny-mistral/ref-greedy.json`, "utf8"));
    const g = JSON.parse(fs.readFileSync(`${data}/golden/tiny-mistral/llamacpp-greedy.json`, "utf8"));
    const up = (a) => a.map((t) => (t > 2 ? t + 765 : t));
    const jobs = r.prompts.filter((q) => !q.exceeds_window).map((p) => ({op: "greedy",
        model: `${tmp}/v3.gguf`, ids: up(p.ids), n: r.n_new_tokens, want: up(g.f32[p.index])}));
    fs.writeFileSync(`${tmp}/jobs.json`, JSON.stringify(jobs));
' "$TMP" "$DATA"
$LLAMA multi "$TMP/jobs.json" >"$TMP/got.json"
node -e '
    const fs = require("fs");
    const jobs = JSON.parse(fs.readFileSync(`${process.argv[1]}/jobs.json`, "utf8"));
    const got = JSON.parse(fs.readFileSync(`${process.argv[1]}/got.json`, "utf8"));
    const bad = jobs.filter((j, i) => JSON.stringify(got[i]) !== JSON.stringify(j.want)).length;
    console.log(`# llama.cpp on the v3 GGUF: its golden greedy ids, moved, on ${jobs.length - bad}/${jobs.length} prompts`);
    process.exit(bad ? 1 : 0);
' "$TMP"
