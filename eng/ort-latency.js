// Median latency at batch 1 on one thread, fp32 and quantized alternated on the same input, with the ONNX Runtime
// that QuantBuild binds (onnxruntime-node 1.30.0). Setup once: (cd /tmp/ortnode && npm install onnxruntime-node@1.30.0)
// Usage: NODE_PATH=/tmp/ortnode/node_modules node eng/ort-latency.js FP32.onnx QUANT.onnx [RUNS] [SHAPE e.g. 1,3,48,320] [int64] [NAME=TYPE:SHAPE:VALUE ...]
// The first input gets SHAPE filled with a sine, or with token ids 0..49 after "int64" (for language models); each
// NAME=TYPE:SHAPE:VALUE feeds another input a constant, e.g. for a model with a sample rate and a recurrent state:
// sr=int64::16000 state=float32:2,1,128:0 (an empty SHAPE is a scalar).
const ort = require('onnxruntime-node');
async function main() {
  const [fp32Path, int8Path, runs] = [process.argv[2], process.argv[3], +(process.argv[4] || 60)];
  const shape = (process.argv[5] || '1,3,48,320').split(',').map(Number);
  const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  const a = await ort.InferenceSession.create(fp32Path, opts);
  const b = await ort.InferenceSession.create(int8Path, opts);
  const n = shape.reduce((p, q) => p * q, 1);
  const tokens = process.argv[6] === 'int64';
  const x = tokens
    ? new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 50)), shape)
    : new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5), shape);
  const feeds = { [a.inputNames[0]]: x };
  for (const extra of process.argv.slice(tokens ? 7 : 6)) {
    const [name, spec] = extra.split('=');
    const [type, dims, value] = spec.split(':');
    const s = dims ? dims.split(',').map(Number) : [];
    const n = s.reduce((p, q) => p * q, 1);
    const data = type === 'int64' ? BigInt64Array.from({ length: n }, () => BigInt(value)) : type === 'int32' ? Int32Array.from({ length: n }, () => +value)
      : Float32Array.from({ length: n }, () => +value);
    feeds[name] = new ort.Tensor(type, data, s);
  }
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
