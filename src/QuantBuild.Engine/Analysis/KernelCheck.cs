using System.Diagnostics;
using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Data;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Analysis;

/// <summary>
/// A short, bounded smoke run: the same batches through fp32 and the quantized model with the same session settings and
/// thread count, median time per batch; and ORT's optimized quantized graph read back to list what it did not fuse.
/// </summary>
public static class KernelCheck
{
    private static readonly HashSet<string> FloatLinear = new(StringComparer.Ordinal) { "Conv", "MatMul", "Gemm" };

    /// <summary>Times <paramref name="batches"/> runs of each model on the first batch of <paramref name="data"/>.</summary>
    public static KernelCheckResult Run(byte[] fp32, byte[] quantized, OnnxModel model, IDataSource data, int batchSize,
        IReadOnlyDictionary<string, string> sessionConfig, int batches = 20, int threads = 0)
    {
        IReadOnlyDictionary<string, DenseTensor> batch = new Batcher(data, model, batchSize, batchSize).Batches().First();
        string optimized = Path.Combine(Path.GetTempPath(), $"quantbuild-kernels-{Guid.NewGuid():N}.onnx");
        try
        {
            double fp32Ms = Time(fp32, Options(sessionConfig, threads, null), batch, batches);
            double quantMs = Time(quantized, Options(sessionConfig, threads, optimized), batch, batches);
            OnnxModel graph = OnnxModelLoader.Load(optimized);
            return new KernelCheckResult(batches, (int)batch.Values.First().Shape[0], threads, fp32Ms, quantMs, Unfused(graph.Graph),
                graph.Graph.Nodes.GroupBy(n => n.OpType).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()));
        }
        finally
        {
            File.Delete(optimized);
            File.Delete(optimized + ".data");
        }
    }

    /// <summary>Float Conv/MatMul/Gemm nodes whose weight is a DequantizeLinear's output.</summary>
    public static IReadOnlyList<UnfusedNode> Unfused(Graph graph)
    {
        var dequantized = new HashSet<string>(graph.Nodes.Where(n => n.OpType == "DequantizeLinear").SelectMany(n => n.Outputs), StringComparer.Ordinal);
        var list = new List<UnfusedNode>();
        foreach (Node node in graph.Nodes)
        {
            // Its weight behind a DequantizeLinear means a quantized layer running as float. A layer kept in fp32 on
            // purpose also reads a dequantized activation at the boundary; that is expected, not a missed fusion.
            if (node.IsDefaultDomain && FloatLinear.Contains(node.OpType) && node.Inputs.Count > 1 && dequantized.Contains(node.Inputs[1]))
            {
                list.Add(new UnfusedNode(node.DisplayName, node.OpType, node.Inputs[1]));
            }
        }

        return list;
    }

    private static SessionOptions Options(IReadOnlyDictionary<string, string> config, int threads, string? optimizedPath)
    {
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.All, IntraOpNumThreads = threads, OptimizedModelFilePath = optimizedPath };
        foreach ((string key, string value) in config)
        {
            options.AddConfigEntry(key, value);
        }

        return options;
    }

    private static double Time(byte[] model, SessionOptions options, IReadOnlyDictionary<string, DenseTensor> batch, int batches)
    {
        using var session = new InferenceSession(model, options);
        session.Run(batch);
        session.Run(batch);
        var times = new double[Math.Max(1, batches)];
        for (int i = 0; i < times.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            session.Run(batch);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        return times[times.Length / 2];
    }
}
