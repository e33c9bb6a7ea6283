// tekken_hf.mjs - Hugging Face's tokenizer (@huggingface/tokenizers, the
// JavaScript port of tokenizers) as the oracle for ckpt's byte-level BPE.
//
//   node tekken_hf.mjs prepare TOKENIZER_DIR CORPUS.json BYTES.txt OUT_DIR
//       writes OUT_DIR/case-N (the bytes of each string), OUT_DIR/count and
//       OUT_DIR/hf.json: per case the ids of encode(text) (special tokens
//       added and parsed, HF's defaults) and decode(ids, skip_special_tokens).
//       Byte strings become strings through TextDecoder, as a JavaScript
//       caller must give them (U+FFFD per maximal ill-formed subsequence).
//   node tekken_hf.mjs compare OUT_DIR LABEL
//       reads OUT_DIR/ids-N and OUT_DIR/text-N written by ckpt and prints
//       the cases that differ and a "# " summary line; exit 1 if any does.
import fs from "fs";
import { Tokenizer } from "@huggingface/tokenizers";

const [mode, ...args] = process.argv.slice(2);
if (mode === "prepare") {
    const [dir, corpus, bytes, out] = args;
    const tj = JSON.parse(fs.readFileSync(`${dir}/tokenizer.json`, "utf8"));
    const tc = JSON.parse(fs.readFileSync(`${dir}/tokenizer_config.json`, "utf8"));
    const tok = new Tokenizer(tj, tc);
    const cases = JSON.parse(fs.readFileSync(corpus, "utf8")).map((s) => Buffer.from(s, "utf8"));
    for (const line of fs.readFileSync(bytes, "utf8").split("\n")) {
        const hex = line.replace(/#.*/, "").replace(/\s+/g, "");
        if (hex) cases.push(Buffer.from(hex, "hex"));
    }
    const dec = new TextDecoder("utf-8", { ignoreBOM: true }); // a BOM is text here
    const hf = cases.map((b, i) => {
        fs.writeFileSync(`${out}/case-${i}`, b);
        const ids = tok.encode(dec.decode(b)).ids;
        const text = tok.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
        return { ids, text };
    });
    fs.writeFileSync(`${out}/hf.json`, JSON.stringify(hf));
    fs.writeFileSync(`${out}/count`, `${cases.length}\n`);
} else if (mode === "compare") {
    const [out, label] = args;
    const hf = JSON.parse(fs.readFileSync(`${out}/hf.json`, "utf8"));
    const dec = new TextDecoder("utf-8", { ignoreBOM: true }); // a BOM is text here
    let ids_ok = 0, text_ok = 0;
    hf.forEach((h, i) => {
        const got = fs.readFileSync(`${out}/ids-${i}`, "utf8").trim();
        const want = h.ids.join(" ");
        if (got === want) ids_ok++;
        else console.log(`${label} case ${i} ${JSON.stringify(dec.decode(fs.readFileSync(`${out}/case-${i}`)))}: ckpt ${got} hf ${want}`);
        const text = dec.decode(fs.readFileSync(`${out}/text-${i}`));
        if (text === h.text) text_ok++;
        else console.log(`${label} case ${i} decode: ckpt ${JSON.stringify(text)} hf ${JSON.stringify(h.text)}`);
    });
    console.log(`# ${label}: ids equal on ${ids_ok}/${hf.length} strings, decode equal on ${text_ok}/${hf.length}`);
    process.exit(ids_ok === hf.length && text_ok === hf.length ? 0 : 1);
} else {
    console.error("usage: tekken_hf.mjs prepare|compare ...");
    process.exit(2);
}
