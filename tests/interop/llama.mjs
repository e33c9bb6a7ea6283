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
//   node llama.mjs tokenize MODEL.gguf TEXTS  -> TEXTS is a JSON file ["...", ...];
//                                                prints [[ids...], ...] (special text not parsed,
//                                                BOS as the GGUF's add_bos_token says)
// Exit 0 on success; an error message on stderr and exit 2 otherwise.
import {readFileSync} from "node:fs";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const [cmd, modelPath, arg] = process.argv.slice(2);
try {
    const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
    const model = await llama.loadModel({modelPath});
    if (cmd === "load") {
        console.log(JSON.stringify({train_ctx: model.trainContextSize}));
    } else if (cmd === "greedy") {
        const jobs = JSON.parse(readFileSync(arg, "utf8"));
        const results = [];
        for (const job of jobs) {
            // a fresh context per prompt, as the golden runs did
            const ctx = await model.createContext({contextSize: 512, batchSize: 512, threads: 2});
            const seq = ctx.getSequence();
            const out = [];
            for await (const t of seq.evaluate(job.ids, {temperature: 0})) {
                out.push(t);
                if (out.length >= job.n) break;
            }
            results.push(out);
            await ctx.dispose();
        }
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
    console.error(`llama.mjs: ${modelPath}: ${e.message ?? e}`);
    process.exit(2);
}
