using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Runtime;

namespace QuantBuild.Benchmarks;

/// <summary>
/// Inference latency of the fp32 sample CNN against the int8 QDQ models the pipeline writes for each target, side by
/// side in one run, through QuantBuild's own ORT binding with GraphOptimizationLevel.All and the same intra-op thread
/// count for every model. The issue-3 target is int8 at least 1.5× faster than fp32 (median).
/// </summary>
[Config(typeof(LatencyConfig))]
[MemoryDiagnoser]
public class InferenceLatencyBenchmarks
{
    private readonly Dictionary<string, InferenceSession> _sessions = new(StringComparer.Ordinal);
    private Dictionary<string, DenseTensor> _feed = new();
    private string[] _outputs = [];
    private static int s_printedGraphs;

    /// <summary>ORT's IntraOpNumThreads, the same for fp32 and int8.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Images per Run.</summary>
    [Params(1, 32)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        SampleQuantization sample = SampleQuantization.Instance;
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.All, IntraOpNumThreads = Threads };
        _sessions["fp32"] = new InferenceSession(sample.Fp32Path, options);
        foreach (string target in new[] { "x64", "x64-avx2", "arm64" })
        {
            _sessions[target] = new InferenceSession(sample.QuantizedPath(target), options);
        }

        _feed = new Dictionary<string, DenseTensor> { [sample.InputName] = sample.EvalImages(Batch) };
        _outputs = [sample.OutputName];
        if (Interlocked.Exchange(ref s_printedGraphs, 1) == 0)
        {
            // What ORT really runs: the graph after its optimizations, written out and counted with our loader.
            Console.WriteLine($"// ORT-optimized fp32:          {sample.OptimizedOpCounts(sample.Fp32Path)}");
            foreach (string target in new[] { "x64", "x64-avx2", "arm64" })
            {
                Console.WriteLine($"// ORT-optimized int8 {target,-9}: {sample.OptimizedOpCounts(sample.QuantizedPath(target))}");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (InferenceSession session in _sessions.Values)
        {
            session.Dispose();
        }

        _sessions.Clear();
    }

    [Benchmark(Baseline = true, Description = "fp32")]
    public IReadOnlyDictionary<string, DenseTensor> Fp32() => _sessions["fp32"].Run(_feed, _outputs);

    [Benchmark(Description = "int8 cpu-x64-vnni")]
    public IReadOnlyDictionary<string, DenseTensor> Int8Vnni() => _sessions["x64"].Run(_feed, _outputs);

    [Benchmark(Description = "int8 cpu-x64-avx2")]
    public IReadOnlyDictionary<string, DenseTensor> Int8Avx2() => _sessions["x64-avx2"].Run(_feed, _outputs);

    [Benchmark(Description = "int8 cpu-arm64")]
    public IReadOnlyDictionary<string, DenseTensor> Int8Arm64() => _sessions["arm64"].Run(_feed, _outputs);

    /// <summary>In process, 15 measured iterations per case, median and the median's ratio to fp32 shown.</summary>
    private sealed class LatencyConfig : ManualConfig
    {
        public LatencyConfig()
        {
            AddJob(Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithLaunchCount(1)
                .WithWarmupCount(3)
                .WithIterationCount(15)
                .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250))
                .WithId("Latency"));
            AddColumn(StatisticColumn.Median, StatisticColumn.P95, new MedianRatioColumn());
            WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));
        }
    }
}

/// <summary>The case's median over its baseline's median in the same parameter group (BenchmarkDotNet's Ratio uses means).</summary>
public sealed class MedianRatioColumn : IColumn
{
    public string Id => nameof(MedianRatioColumn);
    public string ColumnName => "Median ratio";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Baseline;
    public int PriorityInCategory => 10;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Median of this case divided by the median of the baseline with the same parameters";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        BenchmarkCase? baseline = summary.GetBaseline(summary.GetLogicalGroupKey(benchmarkCase));
        double? mine = summary[benchmarkCase]?.ResultStatistics?.Median;
        double? theirs = baseline is null ? null : summary[baseline]?.ResultStatistics?.Median;
        return mine is double m && theirs is double b && b > 0 ? (m / b).ToString("F2") : "?";
    }

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
