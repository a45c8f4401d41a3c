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
        WriteOutlierData();
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

    [Fact]
    public void Segment_fallback_makes_the_layers_it_left_in_fp32_dynamic_where_the_gate_still_passes()
    {
        // The same MLP and outlier, with twelve Add-zero nodes after its output: more quantized nodes than the
        // per-layer search measures, so fallback: auto goes by segments, which trade int8 for fp32 and then try dynamic.
        OnnxModel model = OnnxModelLoader.Load(DynamicActivationTests.Fixture("mlp.onnx"));
        Graph graph = model.Graph;
        string last = graph.Outputs[0].Name;
        graph.Initializers.Add(TensorValue.FromFloats("zero", [0f], [1]));
        Node producer = graph.Nodes.Single(n => n.Outputs.Contains(last));
        producer.Outputs.Replace(producer.Outputs.IndexOf(last), "chain_0");
        for (int i = 0; i < 12; i++)
        {
            graph.Nodes.Add(new Node { OpType = "Add", Name = $"add_{i}", Inputs = { $"chain_{i}", "zero" }, Outputs = { i == 11 ? last : $"chain_{i + 1}" } });
        }

        File.WriteAllBytes(_temp.P("chained.onnx"), OnnxModelSaver.SaveToBytes(model));
        WriteOutlierData();
        RunResult run = Run("""
            model: chained.onnx
            output: out
            calibration: { data: calibration.npy, method: minmax }
            evaluation: { data: eval.npy, metric: cosine }
            gate: { min: 0.99 }
            targets:
              static: { device: cpu-x64-vnni }
              auto: { device: cpu-x64-vnni, fallback: auto, budget: { trials: 24 } }
            """);

        TargetResult plain = run.Targets.Single(t => t.Name == "static");
        TargetResult auto = run.Targets.Single(t => t.Name == "auto");
        FallbackReport f = auto.Fallback!;
        output.WriteLine($"static {plain.QuantizedValue}; auto {auto.QuantizedValue}: {f.Summary}");
        foreach (FallbackStep s in f.Steps)
        {
            output.WriteLine($"  {s.Trial,2} {s.Action,-11} {s.Layer} ({s.Precision}) → {s.Value:0.0000} {(s.Passed ? "pass" : "fail")}: {s.Why}");
        }

        Assert.Equal(TargetStatus.GateFailed, plain.Status);
        Assert.Equal(TargetStatus.Passed, auto.Status);
        Assert.Contains("by segments", f.Summary, StringComparison.Ordinal);
        Assert.Contains(f.Steps, s => s.Action == "dynamic" && s.Passed);
        FallbackLayer fc1 = f.Layers.Single(l => l.Node == "/fc1/Gemm");
        Assert.Equal("dynamic", fc1.Final);
        Assert.Contains("/fc1/Gemm", f.Kept);
        Assert.Contains("/fc1/Gemm", auto.DynamicLayers);
        Assert.DoesNotContain(auto.FloatNodes, n => n.Node == "/fc1/Gemm");
        // Every layer left dynamic is one a passing trial had dynamic; the Adds have no dynamic kernel and never are.
        Assert.All(f.Layers.Where(l => l.OpType == "Add"), l => Assert.NotEqual("dynamic", l.Final));
        Assert.Equal(f.Layers.Where(l => l.Final == "dynamic").Select(l => l.Node).Order(StringComparer.Ordinal), auto.DynamicLayers.Order(StringComparer.Ordinal));
        OnnxModel written = OnnxModelLoader.Load(auto.OutputPath!);
        Assert.Equal(auto.DynamicLayers.Count, written.Graph.Nodes.Count(n => n.OpType == "DynamicQuantizeMatMul"));
        Assert.True(auto.QuantizedValue >= 0.99, $"cosine {auto.QuantizedValue}");
    }

    // 64 calibration rows of N(0, 1) with one row 500× larger: min/max ranges 500× too wide for every other input.
    private void WriteOutlierData()
    {
        float[] calibration = TestGraphs.Normal(21, 64 * 32, 1f);
        for (int i = 0; i < 32; i++)
        {
            calibration[i] *= 500f;
        }

        DataSourceTests.WriteNpy(_temp.P("calibration.npy"), DenseTensor.FromFloats(calibration, 64, 32));
        DataSourceTests.WriteNpy(_temp.P("eval.npy"), DenseTensor.FromFloats(TestGraphs.Normal(22, 200 * 32, 1f), 200, 32));
    }

    private sealed class Capture : ILogEventSink
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

        public IEnumerable<string> Lines => _lines;

        public void Emit(LogEvent logEvent) => _lines.Enqueue(logEvent.RenderMessage());
    }
}
