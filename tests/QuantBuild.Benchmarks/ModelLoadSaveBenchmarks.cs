using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx;

namespace QuantBuild.Benchmarks;

/// <summary>
/// Loading and saving a ~100 MB fp32 model against reading and writing the same bytes raw, in the same run,
/// so the ratio says what parsing and serializing cost on top of the disk (or page cache).
/// </summary>
[Config(typeof(ShortInProcessConfig))]
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ModelLoadSaveBenchmarks
{
    private const int Layers = 25;
    private const int Width = 1024;

    private string _folder = string.Empty;
    private string _modelPath = string.Empty;
    private string _outPath = string.Empty;
    private byte[] _bytes = [];
    private OnnxModel _model = new();

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), "qb-bench-" + Environment.ProcessId);
        Directory.CreateDirectory(_folder);
        _modelPath = Path.Combine(_folder, "gemm-stack.onnx");
        _outPath = Path.Combine(_folder, "out.onnx");
        OnnxModelSaver.Save(GemmStack(), _modelPath);
        _bytes = File.ReadAllBytes(_modelPath);
        _model = OnnxModelLoader.Load(_modelPath);
        Console.WriteLine($"// model: {_bytes.Length / 1e6:F1} MB, {Layers} Gemm layers of {Width}x{Width} fp32");
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_folder, recursive: true);

    [Benchmark(Baseline = true), BenchmarkCategory("Load")]
    public byte[] RawReadAllBytes() => File.ReadAllBytes(_modelPath);

    [Benchmark, BenchmarkCategory("Load")]
    public OnnxModel Load() => OnnxModelLoader.Load(_modelPath);

    [Benchmark(Baseline = true), BenchmarkCategory("Save")]
    public void RawWriteAllBytes() => File.WriteAllBytes(_outPath, _bytes);

    /// <summary>What an atomic write costs by itself: the same bytes, flushed to the device, then renamed.</summary>
    [Benchmark, BenchmarkCategory("Save")]
    public void RawWriteFlushRename()
    {
        string temp = _outPath + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            stream.Write(_bytes);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, _outPath, overwrite: true);
    }

    [Benchmark, BenchmarkCategory("Save")]
    public void Save() => OnnxModelSaver.Save(_model, _outPath);

    /// <summary>A stack of Gemm layers with deterministic random weights: big tensors, few nodes, like real weights.</summary>
    public static OnnxModel GemmStack()
    {
        var model = new OnnxModel { IrVersion = 9, ProducerName = "quantbuild-benchmarks" };
        model.OpsetImports.Add(new OpsetImport("", 17));
        model.Graph.Name = "gemm_stack";
        model.Graph.Inputs.Add(new ValueInfo { Name = "x", Type = new TensorTypeInfo { ElementType = ElementType.Float, Shape = TensorShape.Of(1, Width) } });
        var random = new Random(42);
        string previous = "x";
        for (int layer = 0; layer < Layers; layer++)
        {
            float[] weights = new float[Width * Width];
            for (int i = 0; i < weights.Length; i++)
            {
                weights[i] = (float)(random.NextDouble() - 0.5) * 0.05f;
            }

            model.Graph.Initializers.Add(TensorValue.FromFloats($"w{layer}", weights, Width, Width));
            model.Graph.Initializers.Add(TensorValue.FromFloats($"b{layer}", new float[Width], Width));
            var node = new Node { Name = $"gemm{layer}", OpType = "Gemm" };
            node.Inputs.AddRange([previous, $"w{layer}", $"b{layer}"]);
            previous = $"h{layer}";
            node.Outputs.Add(previous);
            model.Graph.Nodes.Add(node);
        }

        model.Graph.Outputs.Add(new ValueInfo { Name = previous, Type = new TensorTypeInfo { ElementType = ElementType.Float, Shape = TensorShape.Of(1, Width) } });
        return model;
    }

    /// <summary>Few iterations, in process: the whole run fits in a few minutes on two shared cores.</summary>
    private sealed class ShortInProcessConfig : ManualConfig
    {
        public ShortInProcessConfig()
        {
            AddJob(Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithLaunchCount(1)
                .WithWarmupCount(3)
                .WithIterationCount(10)
                .WithId("Short"));
        }
    }
}
