using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Fallback;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Tests.Quantization;
using QuantBuild.Onnx;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Fallback;

/// <summary>
/// The per-layer fallback search on layers inside a Scan body (Fixtures/make_control_flow_models.py's scan_rnn: one
/// MatMul on a weight the body holds itself, one on the main graph's): whether a layer may fall back to dynamic is
/// asked of the graph it is in, and the trial that keeps it dynamic writes DynamicQuantizeMatMul inside the body.
/// </summary>
public sealed class BodyFallbackTests(ITestOutputHelper output)
{
    private static readonly EncodeOptions Vnni = new() { Profile = DeviceProfiles.CpuX64Vnni };

    [Fact]
    public void Scan_body_layers_fall_back_to_dynamic_with_the_weights_of_their_own_body_and_the_trial_writes_it_there()
    {
        OnnxModel model = OnnxModelLoader.Load(DynamicActivationTests.Fixture("scan_rnn.onnx"));
        DenseTensor x = DenseTensor.FromFloats(TestGraphs.Normal(80, 8 * 6 * 8, 1f), 8, 6, 8);
        using IDataSource data = new InMemoryDataSource("x", [("x", x)]);
        CalibrationResult calibrated = Calibrator.Run(model, data, new CalibrationRequest { Tensors = QdqEncoder.Plan(model, Vnni), BatchSize = 4, BatchSizeFromBudget = false, Bins = 0 });
        Dictionary<string, TensorRange> ranges = calibrated.Observers.Where(o => o.Value.Count > 0)
            .ToDictionary(o => o.Key, o => new TensorRange(o.Value.Min, o.Value.Max), StringComparer.Ordinal);
        float[] expected = OrtHarness.Run(model, "x", x, "y");
        var encoded = new Dictionary<string, EncodeResult>(StringComparer.Ordinal);
        TrialResult Trial(EncodeOptions options)
        {
            EncodeResult e = QdqEncoder.Encode(model, ranges, options);
            encoded[string.Join(",", options.DynamicNodeNames.Order(StringComparer.Ordinal))] = e;
            double error = expected.Zip(OrtHarness.Run(e.Model, "x", x, "y"), (a, b) => (double)Math.Abs(a - b)).Max();
            // Passes on fp32 numbers only, so the search measures every layer.
            return new TrialResult(-error, error, 0, 1, error < 1e-7, OnnxModelSaver.SaveToBytes(e.Model).Length);
        }

        EncodeResult recipe = QdqEncoder.Encode(model, ranges, Vnni);
        var search = new FallbackSearch(model, Vnni, recipe.QuantizedLayers, new FallbackConfig(), Trial);
        (FallbackReport report, _, _) = search.Run(Trial(Vnni));
        foreach (FallbackStep s in report.Steps)
        {
            output.WriteLine($"{s.Trial} {s.Action} {s.Layer} {s.Precision}: {s.Why}");
        }

        // Wx is an initializer of the Scan body, Wh one of the main graph: both layers have a constant weight where they are.
        Assert.Equal("dynamic", report.Layers.Single(l => l.Node == "scan_x_matmul").Higher);
        Assert.Equal("dynamic", report.Layers.Single(l => l.Node == "scan_h_matmul").Higher);
        foreach (string layer in new[] { "scan_x_matmul", "scan_h_matmul" })
        {
            Assert.Contains(report.Steps, s => s.Action == "measure" && s.Layer == layer && s.Trial > 0);
            Graph body = encoded[layer].Model.Graph.Nodes.Single(n => n.OpType == "Scan").FindAttribute("body")!.Graph!;
            Node node = body.Nodes.Single(n => n.Name == layer);
            Assert.Equal(("DynamicQuantizeMatMul", "com.microsoft"), (node.OpType, node.Domain));
            Assert.Contains(encoded[layer].QuantizedLayers, l => l.NodeName == layer && l.Dynamic);
        }
    }
}
