using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx;
using QuantBuild.Runtime;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Tests.Quantization;

/// <summary>Runs models through ONNX Runtime for the encoder's tests: plain min/max calibration, inference, ORT's optimized graph.</summary>
internal static class OrtHarness
{
    /// <summary>Min/max of each tensor over the batches, read by exposing the tensors as extra graph outputs.</summary>
    public static Dictionary<string, TensorRange> MinMax(OnnxModel model, IReadOnlyList<string> tensors, IEnumerable<DenseTensor> batches, string inputName)
    {
        OnnxModel probe = OnnxModelLoader.LoadFromBytes(OnnxModelSaver.SaveToBytes(model));
        foreach (string t in tensors)
        {
            if (!probe.Graph.Outputs.Any(o => o.Name == t))
            {
                probe.Graph.Outputs.Add(new ValueInfo { Name = t, Type = new TensorTypeInfo { ElementType = ElementType.Float } });
            }
        }

        var ranges = new Dictionary<string, TensorRange>(StringComparer.Ordinal);
        using var session = new InferenceSession(OnnxModelSaver.SaveToBytes(probe), new SessionOptions { IntraOpNumThreads = 2 });
        foreach (DenseTensor batch in batches)
        {
            var outputs = session.Run(new Dictionary<string, DenseTensor> { [inputName] = batch }, tensors.ToList());
            foreach (string t in tensors)
            {
                ReadOnlySpan<float> values = outputs[t].AsSpan<float>();
                float min = float.MaxValue;
                float max = float.MinValue;
                foreach (float v in values)
                {
                    min = Math.Min(min, v);
                    max = Math.Max(max, v);
                }

                ranges[t] = ranges.TryGetValue(t, out TensorRange? r) ? new TensorRange(Math.Min(r.Min, min), Math.Max(r.Max, max)) : new TensorRange(min, max);
            }
        }

        return ranges;
    }

    public static float[] Run(OnnxModel model, string inputName, DenseTensor input, string outputName, GraphOptimizationLevel level = GraphOptimizationLevel.All)
    {
        using var session = new InferenceSession(OnnxModelSaver.SaveToBytes(model), new SessionOptions { IntraOpNumThreads = 2, GraphOptimizationLevel = level });
        return session.Run(new Dictionary<string, DenseTensor> { [inputName] = input }, new[] { outputName })[outputName].AsSpan<float>().ToArray();
    }

    /// <summary>The graph ORT actually runs: optimized with every level on, written out and loaded back with our loader.</summary>
    public static OnnxModel Optimized(OnnxModel model)
    {
        string dir = Directory.CreateTempSubdirectory("qb-encoder-").FullName;
        try
        {
            string path = Path.Combine(dir, "optimized.onnx");
            using (new InferenceSession(OnnxModelSaver.SaveToBytes(model), new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.All,
                OptimizedModelFilePath = path,
                IntraOpNumThreads = 1,
            }))
            {
            }

            return OnnxModelLoader.Load(path);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static Dictionary<string, int> OpCounts(OnnxModel model) => model.Graph.Nodes
        .GroupBy(n => n.OpType).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>DequantizeLinear nodes whose output feeds a Conv: each one is a Conv ORT did not fuse.</summary>
    public static int DequantizeIntoConv(OnnxModel model)
    {
        var dqOutputs = model.Graph.Nodes.Where(n => n.OpType == "DequantizeLinear").SelectMany(n => n.Outputs).ToHashSet();
        return model.Graph.Nodes.Where(n => n.OpType == "Conv").Sum(n => n.Inputs.Count(dqOutputs.Contains));
    }

    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }

    public static int ArgMaxAgreement(float[] a, float[] b, int classes)
    {
        int agree = 0;
        for (int row = 0; row < a.Length / classes; row++)
        {
            if (ArgMax(a.AsSpan(row * classes, classes)) == ArgMax(b.AsSpan(row * classes, classes)))
            {
                agree++;
            }
        }

        return agree;
    }

    public static string Describe(Dictionary<string, int> counts) => string.Join(", ", counts.Select(kv => $"{kv.Key}×{kv.Value}"));

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
