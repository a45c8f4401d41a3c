using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Fallback;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Tests.Plugins;
using QuantBuild.Engine.Tests.Quantization;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Fallback;

/// <summary>
/// fallback: auto on a model whose accuracy is lost in elementwise ops, not in its linear layers, with more quantized
/// nodes than the per-layer search could measure: the Fashion-MNIST sample with conv2's output multiplied per channel
/// by s (1000 on four channels, 1 on the rest) and then by 1/s (the same function in fp32; one 8-bit grid cannot hold
/// both magnitudes, so the small channels are rounded away), followed by a chain of harmless Add-zero nodes.
/// </summary>
public sealed class SegmentSearchTests(ITestOutputHelper output, SegmentSearchTests.ScaledRun run) : IClassFixture<SegmentSearchTests.ScaledRun>
{
    private const string ScaleUp = "scale_up";
    private const string ScaleDown = "scale_down";

    [Fact]
    public void Plain_int8_fails_the_gate_because_of_the_scaling_muls()
    {
        TargetResult plain = run.Target("int8");
        Assert.Equal(TargetStatus.GateFailed, plain.Status);
        Assert.True(plain.QuantizedValue < 95, $"agreement {plain.QuantizedValue}");
    }

    [Fact]
    public void Fallback_measures_segments_and_keeps_only_the_nodes_the_gate_needs_in_fp32()
    {
        TargetResult t = run.Target("auto");
        FallbackReport f = t.Fallback!;
        foreach (FallbackStep s in f.Steps)
        {
            output.WriteLine($"{s.Trial,2} {s.Action,-10} {s.Layer} → {s.Value:0.00} {(s.Passed ? "pass" : "fail")}: {s.Why}");
        }

        output.WriteLine(f.Summary);
        Assert.Equal(TargetStatus.Passed, t.Status);
        Assert.True(f.Passed);
        Assert.True(t.QuantizedValue >= 99.0, $"agreement {t.QuantizedValue}");
        Assert.Contains("by segments", f.Summary, StringComparison.Ordinal);

        // More nodes than segments: the measure phase grouped them.
        int measures = f.Steps.Count(s => s.Action == "measure");
        Assert.Equal(SegmentSearch.MaxSegments, measures);
        Assert.True(f.Layers.Count > measures, $"{f.Layers.Count} nodes");
        Assert.Contains(f.Layers, l => l.OpType == "Add");

        // The destructive node is kept, and every kept node was shown to be needed by a trial of its own.
        Assert.Contains(ScaleUp, f.Kept);
        Assert.True(f.Kept.Count <= 4, $"kept {string.Join(", ", f.Kept)}");
        Assert.All(f.Kept, k => Assert.Contains(f.Steps, s => s.Action == "needed" && s.Layer == k));
        Assert.All(f.Kept, k => Assert.Contains(t.FloatNodes, n => n.Node == k && n.Reason.Contains("fallback: auto", StringComparison.Ordinal) && n.Reason.Contains("in a trial of its own", StringComparison.Ordinal)));
        Assert.True(f.Trials <= f.MaxTrials);
        Assert.True(t.OutputPath is not null && File.Exists(t.OutputPath));
    }

    [Fact]
    public void Small_models_keep_the_per_layer_search()
    {
        var config = new FallbackConfig { MaxTrials = 40 };
        var options = new QuantBuild.Engine.Quantization.EncodeOptions { Profile = Profiles.DeviceProfiles.Find("cpu-x64-vnni")! };
        Assert.False(FallbackRunner.BySegments(config, options, SegmentSearch.MaxSegments));
        Assert.False(FallbackRunner.BySegments(config, options, 20));
        Assert.True(FallbackRunner.BySegments(config, options, 21));
        Assert.False(FallbackRunner.BySegments(config with { MaxBitsPerWeight = 6 }, options, 300));
    }

    [Theory]
    [InlineData(294, 12)]
    [InlineData(23, 12)]
    [InlineData(5, 12)]
    public void Segments_cover_every_node_once_in_order_with_sizes_differing_by_at_most_one(int nodes, int segments)
    {
        List<Node> all = Enumerable.Range(0, nodes).Select(i => new Node { OpType = "Add", Name = $"n{i}" }).ToList();

        List<List<Node>> parts = SegmentSearch.Split(all, Math.Min(segments, nodes));

        Assert.Equal(Math.Min(segments, nodes), parts.Count);
        Assert.Equal(all, parts.SelectMany(p => p));
        Assert.True(parts.Max(p => p.Count) - parts.Min(p => p.Count) <= 1);
    }

    /// <summary>conv2's output scaled per channel and back, then <paramref name="adds"/> Add-zero nodes, before its Relu.</summary>
    private static OnnxModel Scaled(int adds)
    {
        OnnxModel model = OutlierModels.Sample();
        Graph graph = model.Graph;
        Node relu = graph.Nodes.Single(n => n.Name == "/features/features.5/Relu");
        string conv = relu.Inputs[0];
        const int channels = 32;
        float[] up = Enumerable.Range(0, channels).Select(c => c % 8 == 3 ? 1000f : 1f).ToArray();
        graph.Initializers.Add(TensorValue.FromFloats("s_up", up, [channels, 1, 1]));
        graph.Initializers.Add(TensorValue.FromFloats("s_down", up.Select(v => 1f / v).ToArray(), [channels, 1, 1]));
        graph.Initializers.Add(TensorValue.FromFloats("zero", [0f], [1]));
        var chain = new List<Node>
        {
            new() { OpType = "Mul", Name = ScaleUp, Inputs = { conv, "s_up" }, Outputs = { "scaled_up" } },
            new() { OpType = "Mul", Name = ScaleDown, Inputs = { "scaled_up", "s_down" }, Outputs = { "scaled_0" } },
        };
        for (int i = 0; i < adds; i++)
        {
            chain.Add(new Node { OpType = "Add", Name = $"add_{i}", Inputs = { $"scaled_{i}", "zero" }, Outputs = { $"scaled_{i + 1}" } });
        }

        relu.Inputs.Replace(0, $"scaled_{adds}");
        graph.Nodes.InsertRange(graph.Nodes.IndexOf(relu), chain);
        return model;
    }

    /// <summary>One run of both targets on the scaled model.</summary>
    public sealed class ScaledRun : IDisposable
    {
        private readonly TempFolder _folder = new();

        public ScaledRun()
        {
            string yaml = OutlierModels.WriteConfig(_folder.Path, Scaled(adds: 12), """
                  int8: { device: cpu-x64-vnni }
                  auto: { device: cpu-x64-vnni, fallback: auto, budget: { trials: 40, seconds: 600 } }
                """, gate: "min: 99.0", metric: "agreement");
            Result = new QuantizePipeline(QuantizeConfigLoader.Load(yaml)).Run(new PipelineOptions());
        }

        public RunResult Result { get; }

        public TargetResult Target(string name) => Result.Targets.Single(t => t.Name == name);

        public void Dispose() => _folder.Dispose();
    }
}
