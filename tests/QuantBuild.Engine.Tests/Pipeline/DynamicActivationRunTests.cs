using System.Text.Json.Nodes;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Fallback;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Tests.Plugins;
using QuantBuild.Engine.Tests.Quantization;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx;
using QuantBuild.Runtime;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>
/// <c>activations: dynamic</c> through the whole run: the tiny transformer sample skips calibration and ships
/// DynamicQuantizeMatMul layers the manifest and report name; and fallback: auto turns to dynamic layers when a
/// calibration outlier has destroyed the static ranges of a torch-exported MLP.
/// </summary>
public sealed class DynamicActivationRunTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly Capture _events = new();

    public void Dispose() => _temp.Dispose();

    private static string Sample(string name) => Path.Combine(TestFiles.RepoRoot, "samples", "tiny-transformer", name);

    private RunResult Run(string yaml)
    {
        File.WriteAllText(_temp.P("quantize.yaml"), yaml);
        using Logger log = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(_events).CreateLogger();
        return new QuantizePipeline(QuantizeConfigLoader.Load(_temp.P("quantize.yaml")), log).Run(new PipelineOptions { LayerProbeSamples = 8 });
    }

    [Fact]
    public void An_all_dynamic_transformer_runs_no_calibration_and_its_manifest_and_report_name_the_dynamic_layers()
    {
        RunResult run = Run($"""
            model: {Sample("model.onnx")}
            output: out
            calibration: {"{"} data: {Sample("data/calibration.npy")}, samples: 64 {"}"}
            evaluation: {"{"} data: {Sample("data/eval_inputs.npy")}, labels: {Sample("data/eval_labels.npy")}, metric: top1, batch_size: 64 {"}"}
            gate: {"{"} max_drop: 2.0 {"}"}
            targets:
              dyn: {"{"} device: cpu-x64-vnni, activations: dynamic {"}"}
            """);

        TargetResult t = Assert.Single(run.Targets);
        output.WriteLine($"{t.Status}: top-1 {t.Fp32Value} → {t.QuantizedValue}, {t.QuantizedBytes} bytes");
        Assert.Equal(TargetStatus.Passed, t.Status);
        Assert.Contains(_events.Lines, l => l.Contains("nothing needs activation ranges; calibration skipped", StringComparison.Ordinal));

        OnnxModel written = OnnxModelLoader.Load(t.OutputPath!);
        List<string> dynamic = written.Graph.Nodes.Where(n => n.OpType == "DynamicQuantizeMatMul").Select(n => n.Name!).ToList();
        OnnxModel fp32 = OnnxModelLoader.Load(Sample("model.onnx"));
        Assert.Equal(fp32.Graph.Nodes.Count(n => n.OpType == "MatMul" && fp32.Graph.Initializers.Any(i => i.Name == n.Inputs[1])), dynamic.Count);
        Assert.DoesNotContain(written.Graph.Nodes, n => n.OpType == "QuantizeLinear");
        Assert.Equal(dynamic, t.DynamicLayers);
        JsonNode manifest = JsonNode.Parse(File.ReadAllText(t.ManifestPath!))!;
        Assert.Equal("dynamic", (string?)manifest["activations"]!["mode"]);
        Assert.Equal(dynamic, manifest["activations"]!["dynamic"]!.AsArray().Select(n => (string)n!));
        Assert.Contains($"Activations quantized at run time ({dynamic.Count}", File.ReadAllText(run.ReportMarkdownPath!), StringComparison.Ordinal);
    }

    [Fact]
    public void Fallback_keeps_layers_dynamic_when_a_calibration_outlier_destroyed_their_static_ranges()
    {
        // 64 calibration rows of N(0, 1) with one row 500× larger: min/max ranges 500× too wide for every other input.
        float[] calibration = TestGraphs.Normal(21, 64 * 32, 1f);
        for (int i = 0; i < 32; i++)
        {
            calibration[i] *= 500f;
        }

        DataSourceTests.WriteNpy(_temp.P("calibration.npy"), DenseTensor.FromFloats(calibration, 64, 32));
        DataSourceTests.WriteNpy(_temp.P("eval.npy"), DenseTensor.FromFloats(TestGraphs.Normal(22, 200 * 32, 1f), 200, 32));
        RunResult run = Run($"""
            model: {DynamicActivationTests.Fixture("mlp.onnx")}
            output: out
            calibration: {"{"} data: calibration.npy, method: minmax {"}"}
            evaluation: {"{"} data: eval.npy, metric: cosine {"}"}
            gate: {"{"} min: 0.99 {"}"}
            targets:
              static: {"{"} device: cpu-x64-vnni {"}"}
              auto: {"{"} device: cpu-x64-vnni, fallback: auto, budget: {"{"} trials: 20 {"}"} {"}"}
            """);

        TargetResult plain = run.Targets.Single(t => t.Name == "static");
        TargetResult auto = run.Targets.Single(t => t.Name == "auto");
        FallbackReport f = auto.Fallback!;
        output.WriteLine($"static {plain.QuantizedValue}; auto {auto.QuantizedValue}: {f.Summary}");
        foreach (FallbackStep s in f.Steps)
        {
            output.WriteLine($"  {s.Trial,2} {s.Action,-10} {s.Layer} ({s.Precision}) → {s.Value:0.0000} {(s.Passed ? "pass" : "fail")}: {s.Why}");
        }

        Assert.Equal(TargetStatus.GateFailed, plain.Status);
        Assert.Equal(TargetStatus.Passed, auto.Status);
        Assert.All(f.Layers, l => Assert.Equal("dynamic", l.Higher));
        Assert.NotEmpty(f.Kept);
        Assert.All(f.Layers.Where(l => f.Kept.Contains(l.Node)), l => Assert.Equal("dynamic", l.Final));
        Assert.Contains(f.Steps, s => s.Action == "keep" && s.Why.StartsWith("dynamic beats its static range", StringComparison.Ordinal));
        Assert.DoesNotContain(f.Steps, s => s.Precision == "fp32");
        Assert.Equal(f.Kept.Order(StringComparer.Ordinal), auto.DynamicLayers.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(auto.FloatNodes, n => n.OpType == "Gemm");
        OnnxModel written = OnnxModelLoader.Load(auto.OutputPath!);
        Assert.Equal(f.Kept.Count, written.Graph.Nodes.Count(n => n.OpType == "DynamicQuantizeMatMul"));
        Assert.Contains("dynamic", File.ReadAllText(run.ReportMarkdownPath!), StringComparison.Ordinal);
    }

    private sealed class Capture : ILogEventSink
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

        public IEnumerable<string> Lines => _lines;

        public void Emit(LogEvent logEvent) => _lines.Enqueue(logEvent.RenderMessage());
    }
}
