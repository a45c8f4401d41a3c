// Median latency at batch 1 on one thread, fp32 and quantized alternated on the same input, with the ONNX Runtime
// that QuantBuild binds (onnxruntime-node 1.30.0). Setup once: (cd /tmp/ortnode && npm install onnxruntime-node@1.30.0)
// Usage: NODE_PATH=/tmp/ortnode/node_modules node eng/ort-latency.js FP32.onnx QUANT.onnx [RUNS] [SHAPE e.g. 1,3,48,320] [int64]
// (int64: token ids 0..49 instead of float32 values, for language models)
const ort = require('onnxruntime-node');
async function main() {
  const [fp32Path, int8Path, runs] = [process.argv[2], process.argv[3], +(process.argv[4] || 60)];
  const shape = (process.argv[5] || '1,3,48,320').split(',').map(Number);
  const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  const a = await ort.InferenceSession.create(fp32Path, opts);
  const b = await ort.InferenceSession.create(int8Path, opts);
  const n = shape.reduce((p, q) => p * q, 1);
  const x = process.argv[6] === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 50)), shape)
    : new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5), shape);
  const feeds = { [a.inputNames[0]]: x };
  for (let i = 0; i < 5; i++) { await a.run(feeds); await b.run(feeds); }
  const ta = [], tb = [];
  for (let i = 0; i < runs; i++) {
    let t = process.hrtime.bigint(); await a.run(feeds); ta.push(Number(process.hrtime.bigint() - t) / 1e6);
    t = process.hrtime.bigint(); await b.run(feeds); tb.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const med = v => v.sort((p, q) => p - q)[v.length >> 1];
  console.log(`fp32 ${med(ta).toFixed(2)} ms, int8 ${med(tb).toFixed(2)} ms, ratio int8/fp32 ${(med(tb) / med(ta)).toFixed(2)} (${runs} alternated runs, ORT ${require('onnxruntime-node/package.json').version})`);
}
main();
