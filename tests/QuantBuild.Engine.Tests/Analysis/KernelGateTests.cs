using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Sessions;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Onnx;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace QuantBuild.Engine.Tests.Analysis;

/// <summary>When the pipeline's kernel check times a target, and what it says when it does not.</summary>
public sealed class KernelGateTests : IDisposable
{
    private static readonly string Sample = Path.Combine(TestFiles.RepoRoot, "samples", "fashion-mnist");
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kernel-stage-" + Guid.NewGuid().ToString("N"));
    private readonly Capture _events = new();
    private readonly ILogger _log;

    public KernelGateTests()
    {
        Directory.CreateDirectory(_root);
        _log = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(_events).CreateLogger();
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_device_of_another_cpu_family_is_not_timed(bool requireSpeedup)
    {
        string device = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "cpu-x64-vnni" : "cpu-arm64";
        (TargetConfig target, OnnxModel model, byte[] bytes) = Load(device, requireSpeedup);

        KernelGateResult result = Check(target, model, bytes, quantizedNodes: 5);

        Assert.True(result.Ok);
        Assert.Null(result.Kernels);
        if (requireSpeedup)
        {
            LogEvent warning = Assert.Single(_events.Events, e => e.Level == LogEventLevel.Warning);
            Assert.Contains("QB4104", warning.RenderMessage(), StringComparison.Ordinal);
            Assert.Contains("require_speedup cannot be checked here", warning.RenderMessage(), StringComparison.Ordinal);
        }
        else
        {
            Assert.DoesNotContain(_events.Events, e => e.Level >= LogEventLevel.Warning);
            Assert.Contains(_events.Events, e => e.RenderMessage().Contains("kernel check skipped", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void A_target_with_no_integer_layers_is_timed_but_not_warned_about()
    {
        string device = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "cpu-arm64" : "cpu-x64-vnni";
        (TargetConfig target, OnnxModel model, byte[] bytes) = Load(device, requireSpeedup: false);

        // the fp32 model itself as the "quantized" one: the same speed, which is all a weight-only format promises
        KernelGateResult result = Check(target, model, bytes, quantizedNodes: 0);

        Assert.True(result.Ok);
        Assert.NotNull(result.Kernels);
        Assert.Equal(KernelGate.Threads, result.Kernels!.Threads);
        Assert.Equal(KernelGate.Batches, result.Kernels.Batches);
        Assert.True(result.Kernels.Fp32Milliseconds > 0 && result.Kernels.QuantizedMilliseconds > 0);
        Assert.DoesNotContain(_events.Events, e => e.Level >= LogEventLevel.Warning);
        Assert.Contains(_events.Events, e => e.RenderMessage().Contains("no integer layers", StringComparison.Ordinal));
    }

    [Fact]
    public void Models_too_large_to_hold_together_are_timed_one_after_the_other_by_thread_CPU_time()
    {
        string device = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "cpu-arm64" : "cpu-x64-vnni";
        (TargetConfig target, OnnxModel model, byte[] bytes) = Load(device, requireSpeedup: false);

        // A budget smaller than two copies of the weights: one session at a time.
        KernelCheckResult alone = Check(target, model, bytes, quantizedNodes: 0, budgetBytes: 1).Kernels!;
        KernelCheckResult together = Check(target, model, bytes, quantizedNodes: 0).Kernels!;

        Assert.Equal(OperatingSystem.IsLinux() ? "thread CPU" : "wall", alone.Clock);
        Assert.Equal("wall", together.Clock);
        // The same model twice: whatever the machine's load did between the two phases, their CPU times agree.
        Assert.InRange(alone.Speedup, 0.67, 1.5);
        Assert.Contains(_events.Events, e => e.RenderMessage().Contains(alone.Clock + " time", StringComparison.Ordinal));
    }

    private KernelGateResult Check(TargetConfig target, OnnxModel model, byte[] bytes, int quantizedNodes, long budgetBytes = long.MaxValue)
    {
        IDataSource data = NpyDataSource.Single(model.Graph.Inputs[0].Name, Path.Combine(Sample, "data", "eval_images.npy"));
        return KernelGate.Check(target, Path.Combine(_root, "quantize.yaml"), model, ModelSource.Bytes(bytes), data, 50, quantizedNodes, _log, budgetBytes);
    }

    private (TargetConfig Target, OnnxModel Model, byte[] Bytes) Load(string device, bool requireSpeedup)
    {
        string config = Path.Combine(_root, "quantize.yaml");
        File.WriteAllText(config, $"""
            model: {Path.Combine(Sample, "model.onnx")}
            calibration:
              data: {Path.Combine(Sample, "data", "calibration.npy")}
            targets:
              t:
                device: {device}
                require_speedup: {(requireSpeedup ? "true" : "false")}
            """);
        TargetConfig target = QuantizeConfigLoader.Load(config).Targets.Single();
        OnnxModel model = OnnxModelLoader.Load(Path.Combine(Sample, "model.onnx"));
        return (target, model, File.ReadAllBytes(Path.Combine(Sample, "model.onnx")));
    }

    private sealed class Capture : ILogEventSink
    {
        public List<LogEvent> Events { get; } = new();

        public void Emit(LogEvent logEvent)
        {
            lock (Events)
            {
                Events.Add(logEvent);
            }
        }
    }
}
