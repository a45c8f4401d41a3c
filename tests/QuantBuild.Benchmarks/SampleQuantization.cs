using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Benchmarks;

/// <summary>
/// The bundled Fashion-MNIST sample, quantized by the engine's own pipeline (samples/fashion-mnist/quantize.yaml,
/// every target) into a temp folder, once per process: the benchmarks always measure what the current code writes,
/// never a stale file from an earlier run.
/// </summary>
public sealed class SampleQuantization
{
    private static readonly Lazy<SampleQuantization> Shared = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    private SampleQuantization(string folder, QuantizeConfig config, RunResult run)
    {
        Folder = folder;
        Config = config;
        Run = run;
    }

    /// <summary>The quantized sample, made on first use; the temp folder goes when the process exits.</summary>
    public static SampleQuantization Instance => Shared.Value;

    /// <summary>The benchmark's temp folder (the pipeline's outputs are under quantized/).</summary>
    public string Folder { get; }

    /// <summary>The sample's validated quantize.yaml.</summary>
    public QuantizeConfig Config { get; }

    /// <summary>What the pipeline reported: sizes, top-1, stage times, output paths.</summary>
    public RunResult Run { get; }

    /// <summary>The fp32 model file.</summary>
    public string Fp32Path => Config.ModelPath;

    /// <summary>The quantized model written for the target named <paramref name="target"/> in the yaml.</summary>
    public string QuantizedPath(string target) => Target(target).OutputPath
        ?? throw new InvalidOperationException($"target {target} produced no model: {Target(target).Status} {Target(target).Error}");

    /// <summary>The pipeline's result for one target.</summary>
    public TargetResult Target(string name) => Run.Targets.Single(t => t.Name == name);

    /// <summary>The sample model's one input.</summary>
    public string InputName => Batcher.ModelInputs(OnnxModelLoader.Load(Fp32Path)).Single().Name;

    /// <summary>The sample model's first output (the logits).</summary>
    public string OutputName => OnnxModelLoader.Load(Fp32Path).Graph.Outputs[0].Name;

    /// <summary>The first <paramref name="count"/> evaluation images as one batch.</summary>
    public DenseTensor EvalImages(int count)
    {
        using var source = DataSources.Open(Config.Evaluation!.Data, [InputName]);
        return source.Read(0, count)[InputName];
    }

    /// <summary>The repository root: the nearest folder up from the working directory (or the binary) holding QuantBuild.sln.</summary>
    public static string RepoRoot()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "QuantBuild.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("run the benchmarks from inside the QuantBuild repository (no QuantBuild.sln found above the working directory)");
    }

    /// <summary>The sample's quantize.yaml.</summary>
    public static string ConfigPath => Path.Combine(RepoRoot(), "samples", "fashion-mnist", "quantize.yaml");

    /// <summary>Op types and counts of the graph ONNX Runtime actually runs for <paramref name="modelPath"/> (GraphOptimizationLevel.All).</summary>
    public string OptimizedOpCounts(string modelPath, int threads = 1)
    {
        string optimized = Path.Combine(Folder, Path.GetFileNameWithoutExtension(modelPath) + $".optimized-t{threads}.onnx");
        using (new InferenceSession(modelPath, new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.All,
            IntraOpNumThreads = threads,
            OptimizedModelFilePath = optimized,
        }))
        {
        }

        OnnxModel model = OnnxModelLoader.Load(optimized);
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (Node node in model.Graph.Nodes)
        {
            counts[node.OpType] = counts.GetValueOrDefault(node.OpType) + 1;
        }

        return string.Join(", ", counts.Select(kv => $"{kv.Key}×{kv.Value}"));
    }

    private static SampleQuantization Create()
    {
        string folder = Path.Combine(Path.GetTempPath(), "qb-bench-e2e-" + Environment.ProcessId);
        Directory.CreateDirectory(folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        };

        QuantizeConfig config = QuantizeConfigLoader.Load(ConfigPath);
        RunResult run = new QuantizePipeline(config).Run(new PipelineOptions { OutputDirectory = Path.Combine(folder, "quantized"), WriteReports = false });
        var sample = new SampleQuantization(folder, config, run);
        Console.WriteLine($"// pipeline: {run.TotalSeconds:F2} s for {run.Targets.Count} targets into {Path.Combine(folder, "quantized")}");
        foreach (TargetResult t in run.Targets)
        {
            Console.WriteLine($"// {t.Name} ({t.Device}): {t.Status}, {t.Metric} fp32 {t.Fp32Value:F2} int8 {t.QuantizedValue:F2}, "
                + $"{t.Fp32Bytes} -> {t.QuantizedBytes} bytes ({100.0 * t.QuantizedBytes / t.Fp32Bytes:F1}%), "
                + string.Join(", ", t.Stages.Select(s => $"{s.Stage} {s.Seconds:F2}s")));
        }

        return sample;
    }
}
