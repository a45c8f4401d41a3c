// Output agreement of two models on the same input, with the ONNX Runtime QuantBuild binds (onnxruntime-node 1.30.0):
// cosine and max |error| of the first output. The input is seeded standard-normal noise, or a sine with "sine".
// Usage: NODE_PATH=/tmp/ortnode/node_modules node eng/ort-cosine.js FP32.onnx QUANT.onnx SHAPE [sine]
const ort = require('onnxruntime-node');
async function main() {
  const [fp32Path, quantPath] = [process.argv[2], process.argv[3]];
  const shape = process.argv[4].split(',').map(Number);
  const n = shape.reduce((p, q) => p * q, 1);
  let seed = 12345;
  const uniform = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) + 1) / 2147483649;
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const data = process.argv[5] === 'sine' ? Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5) : Float32Array.from({ length: n }, normal);
  const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  const outputs = [];
  for (const path of [fp32Path, quantPath]) {
    const s = await ort.InferenceSession.create(path, opts);
    const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', data, shape) });
    outputs.push(r[s.outputNames[0]].data);
  }
  const [a, b] = outputs;
  let dot = 0, na = 0, nb = 0, max = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; max = Math.max(max, Math.abs(a[i] - b[i])); }
  console.log(`cosine ${(dot / Math.sqrt(na * nb)).toFixed(6)}, max |error| ${max.toFixed(4)} over ${a.length} values`);
}
main();
