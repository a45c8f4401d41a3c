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
using QuantBuild.Engine.Sessions;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Benchmarks;

/// <summary>
/// Calibration of the sample (the x64 target's plan, batches of 32) against the bare fp32 forward passes over the same
/// .npy batches, twice: min/max only (<c>method: minmax</c>) and with histograms (<c>method: auto</c>, the default, and
/// percentile/entropy/mse). Both calibrator cases build the request as <c>quantbuild run</c> does (the machine's memory
/// budget, so the probe runs, and the yaml's batch size kept). The baseline (ratio 1.00) carries the calibrator's fixed
/// costs too: it opens a session on the model the way the calibrator does (<see cref="ModelSessions.Open"/>), reads
/// every batch from the .npy file, and runs it asking for the model's outputs only. "Calibrator.Run, min/max only"
/// and "Calibrator.Run, histograms" against it are issue 14's done-when ratio (≤ 1.5×). 256 samples are the sample's own calibration.npy; 32,768 are the
/// 2000 eval images repeated, each repeat in a new permutation (<see cref="CalibrationMemory.WriteRepeated"/>), written
/// to a temp .npy. Every case uses the session options the pipeline calibrates with (ORT defaults).
/// </summary>
[Config(typeof(CalibrationConfig))]
[MemoryDiagnoser]
public class CalibrationBenchmarks
{
    private OnnxModel _model = new();
    private IDataSource _data = null!;
    private CalibrationRequest _request = null!;
    private InferenceSession _session = null!;
    private List<IReadOnlyDictionary<string, DenseTensor>> _batches = new();
    private string[] _outputs = [];
    private string[] _observed = [];
    private string? _temp;

    /// <summary>Calibration samples.</summary>
    [Params(256, 32768)]
    public int Samples { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        QuantizeConfig config = QuantizeConfigLoader.Load(SampleQuantization.ConfigPath);
        TargetConfig target = config.Targets.First(t => t.Name == "x64");
        _model = OnnxModelLoader.Load(config.ModelPath);
        List<string> inputNames = Batcher.ModelInputs(_model).Select(i => i.Name).ToList();
        if (Samples == 256)
        {
            _data = DataSources.Open(config.Calibration.Data, inputNames);
        }
        else
        {
            _temp = Path.Combine(Path.GetTempPath(), $"qb-bench-calibration-{Environment.ProcessId}-{Samples}.npy");
            CalibrationMemory.WriteRepeated(config.Evaluation!.Data.Path!, _temp, Samples);
            _data = NpyDataSource.Single(inputNames.Single(), _temp);
        }

        if (_data.SampleCount != Samples)
        {
            throw new InvalidOperationException($"{_data.Description} has {_data.SampleCount} samples, not {Samples}.");
        }

        IReadOnlyList<string> needed = QdqEncoder.Plan(_model, new EncodeOptions { Profile = target.Device });
        _request = new CalibrationRequest
        {
            Tensors = needed,
            BatchSize = config.Calibration.BatchSize,
            Bins = 0,
            // As CalibrateStage: the run's budget less the weights, and the yaml's batch_size kept.
            ActivationBudgetBytes = MemoryBudget.Default().ActivationBytes(new FileInfo(config.ModelPath).Length),
            BatchSizeFromBudget = false,
        };
        _session = ModelSessions.Open(_model);
        _batches = new Batcher(_data, _model, _request.BatchSize, null).Batches().ToList();
        _outputs = _model.Graph.Outputs.Select(o => o.Name).ToArray();
        _observed = needed.Where(n => !inputNames.Contains(n)).ToArray();
        CalibrationResult once = Calibrator.Run(_model, _data, _request);
        Console.WriteLine($"// calibration: {needed.Count} tensors ({string.Join(", ", needed)}), {once.Samples} samples in {_batches.Count} batches "
            + $"of {_request.BatchSize}; one cold run {once.Elapsed.TotalMilliseconds:F1} ms, of which ORT Run {once.RuntimeTime.TotalMilliseconds:F1} ms; "
            + $"load average {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _session.Dispose();
        _data.Dispose();
        if (_temp is not null)
        {
            File.Delete(_temp);
        }

        Console.WriteLine($"// load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    /// <summary>
    /// The done-when baseline: what calibrating would cost if observing were free. Opens the session as the calibrator
    /// does, reads each batch from the .npy, runs it for the model's outputs.
    /// </summary>
    [Benchmark(Baseline = true, Description = "bare passes: session + npy reads + Run(model outputs)")]
    public long ForwardPasses()
    {
        using InferenceSession session = ModelSessions.Open(_model);
        long elements = 0;
        for (long done = 0; done < _data.SampleCount;)
        {
            int rows = (int)Math.Min(_request.BatchSize, _data.SampleCount - done);
            elements += session.Run(_data.Read(done, rows), _outputs)[_outputs[0]].ElementCount;
            done += rows;
        }

        return elements;
    }

    /// <summary>Only ORT: a ready session, batches already in memory, the model's outputs only.</summary>
    [Benchmark(Description = "bare passes, ready session, batches in memory")]
    public long ForwardPassesOnly()
    {
        long elements = 0;
        foreach (IReadOnlyDictionary<string, DenseTensor> batch in _batches)
        {
            elements += _session.Run(batch, _outputs)[_outputs[0]].ElementCount;
        }

        return elements;
    }

    /// <summary>
    /// What the calibrator's ORT side costs without observing: a session exposing the plan's tensors, each batch's
    /// outputs left in ORT's memory (RunOwned) and released.
    /// </summary>
    [Benchmark(Description = "passes exposing the plan, outputs in ORT's memory, not observed")]
    public long ForwardPassesWithExtraOutputs()
    {
        using InferenceSession session = ModelSessions.Open(_model, null, _observed);
        long elements = 0;
        for (long done = 0; done < _data.SampleCount;)
        {
            int rows = (int)Math.Min(_request.BatchSize, _data.SampleCount - done);
            using RunOutputs outputs = session.RunOwned(_data.Read(done, rows), _observed);
            elements += outputs.Tensors[0].ElementCount;
            done += rows;
        }

        return elements;
    }

    /// <summary>Min/max only (<c>Bins = 0</c>): what <c>quantbuild run</c> asks for with <c>method: minmax</c>.</summary>
    [Benchmark(Description = "Calibrator.Run, min/max only")]
    public CalibrationResult CalibrateMinMax() => Calibrator.Run(_model, _data, _request);

    /// <summary>With the 2048-bin histogram per tensor: what <c>method: auto</c> (the default), percentile, entropy and mse need.</summary>
    [Benchmark(Description = "Calibrator.Run, histograms (method auto, the default)")]
    public CalibrationResult Calibrate() => Calibrator.Run(_model, _data, _request with { Bins = CalibrationRequest.DefaultBins });

    /// <summary>In process, 3 warmups and 15 iterations (a 32,768-sample case takes 1–2 s), median and standard deviation shown.</summary>
    private sealed class CalibrationConfig : ManualConfig
    {
        public CalibrationConfig()
        {
            AddJob(Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithLaunchCount(1)
                .WithWarmupCount(3)
                .WithIterationCount(15)
                .WithId("Short"));
            AddColumn(StatisticColumn.Median, StatisticColumn.StdDev, new MedianRatioColumn());
            WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));
        }
    }
}
