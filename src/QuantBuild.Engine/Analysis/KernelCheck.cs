using System.Diagnostics;
using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Quantization.Operators;
using QuantBuild.Engine.Sessions;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Analysis;

/// <summary>
/// A short, bounded smoke run: the same batches through fp32 and the quantized model with the same session settings and
/// thread count, median time per batch; and ORT's optimized quantized graph read back to list what it did not fuse.
/// </summary>
public static class KernelCheck
{

    /// <summary>Times <paramref name="batches"/> runs of each model on the first batch of <paramref name="data"/>.</summary>
    /// <param name="fp32">The fp32 model.</param>
    /// <param name="quantized">The quantized model.</param>
    /// <param name="model">The fp32 IR, for its inputs.</param>
    /// <param name="data">The samples; the first batch is timed.</param>
    /// <param name="batchSize">Samples per run.</param>
    /// <param name="sessionConfig">The device's session settings.</param>
    /// <param name="batches">Timed runs per model.</param>
    /// <param name="threads">ONNX Runtime threads.</param>
    /// <param name="interleave">Both sessions alive with their runs alternated (fairest under load); false times one
    /// model, closes it, then the other, so only one model's weights are ever loaded (large models).</param>
    /// <param name="readOptimizedGraph">Have ORT write its optimized quantized graph and list what it did not fuse. False
    /// leaves the lists empty: ORT serializes that graph in memory, weights and all, which for a 4-bit model whose
    /// weights it folds back to float costs another copy of the fp32 weights.</param>
    public static KernelCheckResult Run(ModelSource fp32, ModelSource quantized, OnnxModel model, IDataSource data, int batchSize,
        IReadOnlyDictionary<string, string> sessionConfig, int batches = 20, int threads = 0, bool interleave = true, bool readOptimizedGraph = true)
    {
        IReadOnlyDictionary<string, DenseTensor> batch = new Batcher(data, model, batchSize, batchSize).Batches().First();
        string optimized = Path.Combine(Path.GetTempPath(), $"quantbuild-kernels-{Guid.NewGuid():N}.onnx");
        try
        {
            SessionOptions fp32Options = Options(sessionConfig, threads, null);
            SessionOptions quantOptions = Options(sessionConfig, threads, readOptimizedGraph ? optimized : null);
            (double fp32Ms, double quantMs, string clock) = interleave
                ? TimeInterleaved(fp32, fp32Options, quantized, quantOptions, batch, batches)
                : TimeOneAfterTheOther(fp32, fp32Options, quantized, quantOptions, batch, batches, threads);
            if (!readOptimizedGraph)
            {
                return new KernelCheckResult(batches, (int)batch.Values.First().Shape[0], threads, fp32Ms, quantMs, [], new Dictionary<string, int>()) { Clock = clock };
            }

            OnnxModel graph = OnnxModelLoader.Load(optimized);
            return new KernelCheckResult(batches, (int)batch.Values.First().Shape[0], threads, fp32Ms, quantMs, Unfused(graph.Graph),
                graph.Graph.Nodes.GroupBy(n => n.OpType).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()))
            {
                Clock = clock,
            };
        }
        finally
        {
            File.Delete(optimized);
            File.Delete(optimized + ".data");
        }
    }

    /// <summary>
    /// What ORT left in float between quantized data: layers (the registry's ops with a weight) reading a dequantized
    /// weight, and any other op that reads a DequantizeLinear and writes a QuantizeLinear — a round trip through float
    /// that costs two conversions and gains nothing. If branches and Loop/Scan bodies are searched too.
    /// </summary>
    public static IReadOnlyList<UnfusedNode> Unfused(Graph graph)
    {
        var list = new List<UnfusedNode>();
        Unfused(graph, new HashSet<string>(StringComparer.Ordinal), new HashSet<string>(StringComparer.Ordinal), OpQuantizerRegistry.CreateBuiltIn().LayerOpTypes(), list);
        return list;
    }

    // One graph, then its If branches and Loop/Scan bodies (quantized like it), each seeing the dequantized values around it.
    private static void Unfused(Graph graph, HashSet<string> outerDequantized, HashSet<string> outerQuantizeInputs, IReadOnlySet<string> layerOps, List<UnfusedNode> list)
    {
        var dequantized = new HashSet<string>(graph.Nodes.Where(n => n.OpType == "DequantizeLinear").SelectMany(n => n.Outputs), StringComparer.Ordinal);
        var quantizeInputs = new HashSet<string>(graph.Nodes.Where(n => n.OpType == "QuantizeLinear").Select(n => n.Inputs[0]), StringComparer.Ordinal);
        dequantized.UnionWith(outerDequantized);
        quantizeInputs.UnionWith(outerQuantizeInputs);
        foreach (Node node in graph.Nodes)
        {
            foreach (NodeAttribute branch in Quantization.Branches.Of(node))
            {
                Unfused(branch.Graph!, dequantized, quantizeInputs, layerOps, list);
            }

            if (node.OpType is "DequantizeLinear" or "QuantizeLinear")
            {
                continue;
            }

            // Its weight behind a DequantizeLinear means a quantized layer running as float. A layer kept in fp32 on
            // purpose also reads a dequantized activation at the boundary; that is expected, not a missed fusion.
            if (node.IsDefaultDomain && layerOps.Contains(node.OpType) && node.Inputs.Count > 1 && dequantized.Contains(node.Inputs[1]))
            {
                list.Add(new UnfusedNode(node.DisplayName, node.OpType, node.Inputs[1], "a quantized layer ran in float on its dequantized weight"));
            }
            else if (node.Inputs.FirstOrDefault(dequantized.Contains) is { } input && node.Outputs.Any(quantizeInputs.Contains))
            {
                list.Add(new UnfusedNode(node.DisplayName, node.OpType, input, "ran in float between a DequantizeLinear and a QuantizeLinear: no integer kernel took it"));
            }
        }
    }

    private static SessionOptions Options(IReadOnlyDictionary<string, string> config, int threads, string? optimizedPath)
    {
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.All, IntraOpNumThreads = threads };
        if (optimizedPath is not null)
        {
            ModelSessions.WriteOptimizedGraph(options, optimizedPath);
        }

        foreach ((string key, string value) in config)
        {
            options.AddConfigEntry(key, value);
        }

        return options;
    }

    /// <summary>
    /// Median milliseconds per run of each model, the two sessions alive together and their runs alternated (the order
    /// swapped every round), so load from elsewhere on the machine slows both alike instead of whichever ran second.
    /// </summary>
    private static (double A, double B, string Clock) TimeInterleaved(ModelSource a, SessionOptions aOptions, ModelSource b, SessionOptions bOptions,
        IReadOnlyDictionary<string, DenseTensor> batch, int batches)
    {
        using InferenceSession first = a.Open(aOptions);
        using InferenceSession second = b.Open(bOptions);
        WarmUp(first, batch);
        WarmUp(second, batch);

        var timesA = new double[Math.Max(1, batches)];
        var timesB = new double[timesA.Length];
        for (int i = 0; i < timesA.Length; i++)
        {
            if (i % 2 == 0)
            {
                timesA[i] = Timed(first, batch);
                timesB[i] = Timed(second, batch);
            }
            else
            {
                timesB[i] = Timed(second, batch);
                timesA[i] = Timed(first, batch);
            }
        }

        Array.Sort(timesA);
        Array.Sort(timesB);
        return (timesA[timesA.Length / 2], timesB[timesB.Length / 2], "wall");
    }

    /// <summary>
    /// One model at a time (a large model's two copies would not fit). Wall times taken a minute apart on a shared
    /// machine compare the load of two moments as much as two models, so with one ORT thread (which runs on the calling
    /// thread) each run is timed by the thread's CPU time instead; with more threads, or where that clock is missing, by wall time.
    /// </summary>
    private static (double A, double B, string Clock) TimeOneAfterTheOther(ModelSource a, SessionOptions aOptions, ModelSource b, SessionOptions bOptions,
        IReadOnlyDictionary<string, DenseTensor> batch, int batches, int threads)
    {
        bool cpu = threads == 1 && ThreadCpu.Available;
        double first = TimeAlone(a, aOptions, batch, batches, cpu);
        OrtMemory.ReleaseFreed();
        return (first, TimeAlone(b, bOptions, batch, batches, cpu), cpu ? "thread CPU" : "wall");
    }

    /// <summary>Median milliseconds per run of one model, its session the only one open.</summary>
    private static double TimeAlone(ModelSource source, SessionOptions options, IReadOnlyDictionary<string, DenseTensor> batch, int batches, bool cpu)
    {
        using InferenceSession session = source.Open(options);
        WarmUp(session, batch);
        var times = new double[Math.Max(1, batches)];
        for (int i = 0; i < times.Length; i++)
        {
            times[i] = cpu ? CpuTimed(session, batch) : Timed(session, batch);
        }

        Array.Sort(times);
        return times[times.Length / 2];
    }

    /// <summary>
    /// Runs until two runs in a row agree within 10 % (at least 2, at most 6): the first runs of a session over mapped
    /// weights fault the pages in (and pre-packed kernels fill their caches), which a fixed two runs may not cover at
    /// several gigabytes.
    /// </summary>
    private static void WarmUp(InferenceSession session, IReadOnlyDictionary<string, DenseTensor> batch)
    {
        double previous = Timed(session, batch);
        for (int i = 1; i < 6; i++)
        {
            double current = Timed(session, batch);
            if (Math.Abs(current - previous) <= 0.1 * Math.Max(current, previous))
            {
                return;
            }

            previous = current;
        }
    }

    private static double Timed(InferenceSession session, IReadOnlyDictionary<string, DenseTensor> batch)
    {
        long start = Stopwatch.GetTimestamp();
        session.Run(batch);
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double CpuTimed(InferenceSession session, IReadOnlyDictionary<string, DenseTensor> batch)
    {
        double start = ThreadCpu.Milliseconds();
        session.Run(batch);
        return ThreadCpu.Milliseconds() - start;
    }

    /// <summary>The calling thread's CPU time (user + system), from clock_gettime(CLOCK_THREAD_CPUTIME_ID) on Linux.</summary>
    private static class ThreadCpu
    {
        private const int ClockThreadCpuTime = 3;

        public static bool Available { get; } = Probe();

        public static double Milliseconds()
        {
            ClockGetTime(ClockThreadCpuTime, out Timespec t);
            return t.Seconds * 1e3 + t.Nanoseconds / 1e6;
        }

        private static bool Probe()
        {
            if (!OperatingSystem.IsLinux())
            {
                return false;
            }

            try
            {
                return ClockGetTime(ClockThreadCpuTime, out _) == 0;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return false;
            }
        }

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
        private static extern int ClockGetTime(int clock, out Timespec time);

        [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
        private struct Timespec
        {
            public long Seconds;
            public long Nanoseconds;
        }
    }
}
