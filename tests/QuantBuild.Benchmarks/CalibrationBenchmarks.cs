using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Quantization;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Benchmarks;

/// <summary>
/// Calibration of the sample (the x64 target's plan: every activation the encoder needs exposed as an extra output,
/// 256 samples in batches of 32, observers folded per batch) against the bare fp32 forward passes over the same
/// batches asking for the model's output only. The ratio is what observing costs on top of running the model.
/// Both use the session options the pipeline calibrates with (ORT defaults: All optimizations, ORT's thread count).
/// </summary>
[Config(typeof(CalibrationConfig))]
[MemoryDiagnoser]
public class CalibrationBenchmarks
{
    private OnnxModel _model = new();
    private byte[] _fp32 = [];
    private IDataSource _data = null!;
    private CalibrationRequest _request = null!;
    private InferenceSession _session = null!;
    private List<IReadOnlyDictionary<string, DenseTensor>> _batches = new();
    private string[] _outputs = [];
    private InferenceSession _augmented = null!;
    private string[] _observed = [];

    [GlobalSetup]
    public void Setup()
    {
        QuantizeConfig config = QuantizeConfigLoader.Load(SampleQuantization.ConfigPath);
        TargetConfig target = config.Targets.First(t => t.Name == "x64");
        _model = OnnxModelLoader.Load(config.ModelPath);
        _fp32 = OnnxModelSaver.SaveToBytes(_model);
        _data = DataSources.Open(config.Calibration.Data, Batcher.ModelInputs(_model).Select(i => i.Name).ToList());
        IReadOnlyList<string> needed = QdqEncoder.Plan(_model, new EncodeOptions { Profile = target.Device });
        _request = new CalibrationRequest { Tensors = needed, BatchSize = config.Calibration.BatchSize, MaxSamples = config.Calibration.Samples };
        _session = new InferenceSession(_fp32);
        _batches = new Batcher(_data, _model, _request.BatchSize, _request.MaxSamples).Batches().ToList();
        _outputs = [_model.Graph.Outputs[0].Name];
        var inputs = Batcher.ModelInputs(_model).Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        _observed = needed.Where(n => !inputs.Contains(n)).ToArray();
        _augmented = new InferenceSession(Calibrator.Augment(_model, _observed));
        CalibrationResult once = Calibrator.Run(_model, _data, _request);
        Console.WriteLine($"// calibration: {needed.Count} tensors, {once.Samples} samples in {_batches.Count} batches of {_request.BatchSize}; "
            + $"one cold run {once.Elapsed.TotalMilliseconds:F1} ms, of which ORT Run {once.RuntimeTime.TotalMilliseconds:F1} ms");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _session.Dispose();
        _augmented.Dispose();
        _data.Dispose();
    }

    /// <summary>Only ORT: a ready session, batches already in memory, the logits only.</summary>
    [Benchmark(Baseline = true, Description = "bare forward passes")]
    public long ForwardPasses()
    {
        long elements = 0;
        foreach (IReadOnlyDictionary<string, DenseTensor> batch in _batches)
        {
            elements += _session.Run(batch, _outputs)[_outputs[0]].ElementCount;
        }

        return elements;
    }

    /// <summary>Like-for-like with the calibrator's fixed costs: creates the session and reads the .npy per batch too.</summary>
    [Benchmark(Description = "forward passes + session + npy reads")]
    public long ForwardPassesWithSetup()
    {
        using var session = new InferenceSession(_fp32);
        long elements = 0;
        foreach (IReadOnlyDictionary<string, DenseTensor> batch in new Batcher(_data, _model, _request.BatchSize, _request.MaxSamples).Batches())
        {
            elements += session.Run(batch, _outputs)[_outputs[0]].ElementCount;
        }

        return elements;
    }

    /// <summary>What ORT and the copy out cost with the calibrator's extra outputs, without observing them.</summary>
    [Benchmark(Description = "forward passes + extra outputs, not observed")]
    public long ForwardPassesWithExtraOutputs()
    {
        long elements = 0;
        foreach (IReadOnlyDictionary<string, DenseTensor> batch in _batches)
        {
            foreach (DenseTensor tensor in _augmented.Run(batch, _observed).Values)
            {
                elements += tensor.ElementCount;
            }
        }

        return elements;
    }

    /// <summary>With the 2048-bin histogram per tensor: what percentile, entropy and mse ranges need.</summary>
    [Benchmark(Description = "Calibrator.Run, histograms")]
    public CalibrationResult Calibrate() => Calibrator.Run(_model, _data, _request);

    /// <summary>Min/max only (<c>Bins = 0</c>): what the pipeline asks for with <c>method: minmax</c>, the default.</summary>
    [Benchmark(Description = "Calibrator.Run, min/max only")]
    public CalibrationResult CalibrateMinMax() => Calibrator.Run(_model, _data, _request with { Bins = 0 });

    /// <summary>In process, 10 iterations: a case is a few hundred milliseconds.</summary>
    private sealed class CalibrationConfig : ManualConfig
    {
        public CalibrationConfig()
        {
            AddJob(Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithLaunchCount(1)
                .WithWarmupCount(2)
                .WithIterationCount(10)
                .WithId("Short"));
            AddColumn(StatisticColumn.Median, new MedianRatioColumn());
            WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));
        }
    }
}
