// llama.mjs - llama.cpp as a live peer for ckpt's tests, through node-llama-cpp's
// prebuilt CPU binaries (never built here, never downloaded at run time).
//
//   node llama.mjs multi JOBS                 -> JOBS is a JSON file [{"op":OP,"model":PATH,...}, ...];
//                                                prints one JSON array, a result per job, in order.
//                                                Consecutive jobs on the same model share one load,
//                                                and the whole list shares one process (starting
//                                                node and llama.cpp costs about as much as a job).
//   node llama.mjs OP MODEL.gguf FILE         -> the same for one model: FILE is a JSON array of
//                                                the jobs' other fields (load takes no FILE).
// Ops and their results:
//   load                  {"train_ctx":...}: llama.cpp loaded the file
//   greedy   ids, n       [ids...]: greedy continuation of n tokens
//   argmax   ids          [ids...]: teacher-forced, the greedy next token after every
//                         position (one batched evaluation, controlledEvaluate)
//   margins  ids, want    [[top, lead, p], ...]: teacher-forced on ids + want (minus its
//                         last), for every position of want: llama.cpp's greedy token, its
//                         logit lead ln p(top) - ln p(want) over the wanted token (0 when
//                         they are equal, -1 when want is not among the candidates), and
//                         p(top) itself (a function of every logit, to compare files exactly)
//   tokenize texts        [[ids...], ...] (special text parsed only with "special": true, BOS as the GGUF's
//                         add_bos_token says)
// Every evaluation gets a fresh 512-token context with batch 512, as the golden runs had,
// and a fixed thread count, LLAMA_THREADS (node-llama-cpp otherwise treats the count as a
// hint).  The default is 1: the logits do not depend on it (ggml computes every output
// element in one thread, in an order fixed by the kernel), and ggml's threads spin at
// each barrier, so two of them on a busy 2-core machine made a 4-second run take 2 minutes.
// Exit 0 on success; an error message on stderr and exit 2 otherwise.
import {readFileSync} from "node:fs";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const threads = Number(process.env.LLAMA_THREADS ?? 1);

async function withContext(model, fn) {
    const ctx = await model.createContext({contextSize: 512, batchSize: 512,
                                           threads: {ideal: threads, min: threads}});
    try {
        return await fn(ctx.getSequence());
    } finally {
        await ctx.dispose();
    }
}

const ops = {
    load: async (model) => ({train_ctx: model.trainContextSize}),
    greedy: (model, job) => withContext(model, async (seq) => {
        const out = [];
        for await (const t of seq.evaluate(job.ids, {temperature: 0})) {
            out.push(t);
            if (out.length >= job.n) break;
        }
        return out;
    }),
    argmax: (model, job) => withContext(model, async (seq) => {
        const next = {generateNext: {token: true, options: {temperature: 0}}};
        const out = await seq.controlledEvaluate(job.ids.map((t) => [t, next]));
        return out.map((o) => o?.next?.token ?? -1);
    }),
    margins: (model, job) => withContext(model, async (seq) => {
        // temperature 1 and no top-k/top-p cut: the probabilities are the softmax
        // of the logits, so a log ratio is a logit difference
        const next = {generateNext: {probabilities: true,
                                     options: {temperature: 1, topK: 0, topP: 1, minP: 0}}};
        const ids = job.ids.concat(job.want.slice(0, -1));
        const first = job.ids.length - 1;
        const out = await seq.controlledEvaluate(ids.map((t, i) => (i >= first ? [t, next] : t)));
        return job.want.map((w, k) => {
            const probs = out[first + k]?.next?.probabilities;
            if (!probs) throw new Error(`no probabilities at position ${first + k}`);
            const [top, ptop] = probs.entries().next().value;
            const pw = probs.get(w);
            return [top, top === w ? 0 : pw ? Math.log(ptop / pw) : -1, ptop];
        });
    }),
    tokenize: async (model, job) => job.texts.map((t) => Array.from(model.tokenize(t, job.special === true))),
};

const [cmd, modelPath, arg] = process.argv.slice(2);
let current = modelPath;
try {
    let jobs, single = false;
    if (cmd === "multi") {
        jobs = JSON.parse(readFileSync(modelPath, "utf8"));
    } else if (cmd === "load") {
        jobs = [{op: "load", model: modelPath}];
        single = true;
    } else if (cmd === "tokenize") {
        jobs = [{op: "tokenize", model: modelPath, texts: JSON.parse(readFileSync(arg, "utf8"))}];
        single = true;
    } else if (ops[cmd]) {
        jobs = JSON.parse(readFileSync(arg, "utf8")).map((j) => ({...j, op: cmd, model: modelPath}));
    } else {
        throw new Error(`unknown command ${cmd}`);
    }
    const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
    const results = [];
    let model = null, loadedVocabOnly = false;
    for (const job of jobs) {
        if (!ops[job.op]) throw new Error(`unknown op ${job.op}`);
        /* tokenize needs the vocabulary only, which is all a --vocab-only file
         * has (node-llama-cpp's memory estimate still tries the tensors first
         * and logs that they are missing; the vocab-only load that follows works) */
        const vocabOnly = job.op === "tokenize";
        if (job.model !== current || !model || vocabOnly !== loadedVocabOnly) {
            if (model) await model.dispose();
            current = job.model;
            model = await llama.loadModel({modelPath: job.model, vocabOnly});
            loadedVocabOnly = vocabOnly;
        }
        results.push(await ops[job.op](model, job));
    }
    if (model) await model.dispose();
    console.log(JSON.stringify(single ? results[0] : results));
    await llama.dispose();
} catch (e) {
    console.error(`llama.mjs: ${current}: ${e.message ?? e}`);
    process.exit(2);
}
