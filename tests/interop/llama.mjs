// llama.mjs - llama.cpp as a live peer for ckpt's tests, through node-llama-cpp's
// prebuilt CPU binaries (never built here, never downloaded at run time).
//
//   node llama.mjs load MODEL.gguf            -> {"train_ctx":...}: llama.cpp loaded the file
//   node llama.mjs greedy MODEL.gguf JOBS     -> JOBS is a JSON file [{"ids":[...],"n":N}, ...];
//                                                prints [[ids...], ...]: greedy continuations
//   node llama.mjs argmax MODEL.gguf JOBS     -> JOBS is a JSON file [{"ids":[...]}, ...];
//                                                prints [[ids...], ...]: teacher-forced, the
//                                                greedy next token after every position (one
//                                                batched evaluation, controlledEvaluate)
//   node llama.mjs multi JOBS                 -> JOBS is a JSON file [{"model":PATH,"ids":[...],"n":N}, ...];
//                                                greedy continuations over many models, each
//                                                loaded once; prints [[ids...], ...]
//   node llama.mjs tokenize MODEL.gguf TEXTS  -> TEXTS is a JSON file ["...", ...];
//                                                prints [[ids...], ...] (special text not parsed,
//                                                BOS as the GGUF's add_bos_token says)
// Exit 0 on success; an error message on stderr and exit 2 otherwise.
import {readFileSync} from "node:fs";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

// Greedy continuation of job.ids for job.n tokens, in a fresh context per
// prompt, as the golden runs did.
async function greedy(model, job) {
    const ctx = await model.createContext({contextSize: 512, batchSize: 512, threads: 2});
    const seq = ctx.getSequence();
    const out = [];
    for await (const t of seq.evaluate(job.ids, {temperature: 0})) {
        out.push(t);
        if (out.length >= job.n) break;
    }
    await ctx.dispose();
    return out;
}

const [cmd, modelPath, arg] = process.argv.slice(2);
let current = modelPath;
try {
    const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
    if (cmd === "multi") {
        const jobs = JSON.parse(readFileSync(modelPath, "utf8"));
        const results = [];
        let model = null, loaded = null;
        for (const job of jobs) {
            if (job.model !== loaded) {
                if (model) await model.dispose();
                current = job.model;
                model = await llama.loadModel({modelPath: job.model});
                loaded = job.model;
            }
            results.push(await greedy(model, job));
        }
        if (model) await model.dispose();
        console.log(JSON.stringify(results));
        await llama.dispose();
        process.exit(0);
    }
    /* tokenize needs the vocabulary only, which is all a --vocab-only file
     * has (node-llama-cpp's memory estimate still tries the tensors first
     * and logs that they are missing; the vocab-only load that follows works) */
    const model = await llama.loadModel({modelPath, vocabOnly: cmd === "tokenize"});
    if (cmd === "load") {
        console.log(JSON.stringify({train_ctx: model.trainContextSize}));
    } else if (cmd === "greedy") {
        const jobs = JSON.parse(readFileSync(arg, "utf8"));
        const results = [];
        for (const job of jobs)
            results.push(await greedy(model, job));
        console.log(JSON.stringify(results));
    } else if (cmd === "argmax") {
        const jobs = JSON.parse(readFileSync(arg, "utf8"));
        const results = [];
        for (const job of jobs) {
            const ctx = await model.createContext({contextSize: 512, batchSize: 512, threads: 2});
            const seq = ctx.getSequence();
            const next = {generateNext: {token: true, options: {temperature: 0}}};
            const out = await seq.controlledEvaluate(job.ids.map((t) => [t, next]));
            results.push(out.map((o) => o?.next?.token ?? -1));
            await ctx.dispose();
        }
        console.log(JSON.stringify(results));
    } else if (cmd === "tokenize") {
        const texts = JSON.parse(readFileSync(arg, "utf8"));
        console.log(JSON.stringify(texts.map((t) => Array.from(model.tokenize(t, false)))));
    } else {
        throw new Error(`unknown command ${cmd}`);
    }
    await model.dispose();
    await llama.dispose();
} catch (e) {
    console.error(`llama.mjs: ${current}: ${e.message ?? e}`);
    process.exit(2);
}
