// bench.mjs - llama.cpp's forward-pass speed, through node-llama-cpp's CPU
// binaries, for make bench (tests/bench_forward.sh).  Not a test.
//
//   node bench.mjs MODEL.gguf N_PROMPT N_GEN THREADS
//
// Loads the model, evaluates an N_PROMPT-token prompt of fixed ids in
// batches of 512 and greedily generates N_GEN tokens (an end-of-sequence
// token ends generation early; the rate counts what was generated).
// Prints {"prefill_tok_s":..., "decode_tok_s":..., "n_gen":...}: the prompt
// rate up to the first generated token, and the rate of the tokens after it.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const [modelPath, nPromptArg, nGenArg, threadsArg] = process.argv.slice(2);
const nPrompt = Number(nPromptArg), nGen = Number(nGenArg), threads = Number(threadsArg);
try {
    const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
    const model = await llama.loadModel({modelPath});
    const ctx = await model.createContext({contextSize: nPrompt + nGen + 16, batchSize: 512,
                                           threads: {ideal: threads, min: threads}});
    const seq = ctx.getSequence();
    // ids past the special and byte tokens, the same for every run and every tool
    const ids = Array.from({length: nPrompt}, (_, i) => 259 + ((i * 7919) % 20000));
    const t0 = performance.now();
    let first = 0, n = 0;
    for await (const t of seq.evaluate(ids, {temperature: 0})) {
        if (++n === 1) first = performance.now();
        if (n >= nGen) break;
    }
    const end = performance.now();
    console.log(JSON.stringify({
        prefill_tok_s: nPrompt / ((first - t0) / 1000),
        decode_tok_s: n > 1 ? (n - 1) / ((end - first) / 1000) : 0,
        n_gen: n,
    }));
    await ctx.dispose();
    await model.dispose();
    await llama.dispose();
} catch (e) {
    console.error(`bench.mjs: ${modelPath}: ${e.message ?? e}`);
    process.exit(2);
}
