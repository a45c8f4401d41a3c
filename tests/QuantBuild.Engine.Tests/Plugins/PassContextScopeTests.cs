using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Plugins;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Tests.Quantization;

namespace QuantBuild.Engine.Tests.Plugins;

/// <summary>
/// What a pass reaches beyond the main graph: tensors inside If branches (captured, run, kept in float by name) and the
/// state of a streamed input (<c>inputs: {h: {stream: hN}}</c>, on <see cref="StreamFeedbackTests.Cell"/>), which a capture must feed back window by window as
/// calibration does. The values are checked against the same arithmetic done here by hand.
/// </summary>
public sealed class PassContextScopeTests
{
    private const int Rows = 6;

    [Fact]
    public void A_pass_captures_a_tensor_inside_the_If_branch_the_data_takes()
    {
        OnnxModel model = Branched();
        using IDataSource data = Bound(model, taken: true);

        DenseTensor captured = Context(model, data, batchSize: 4).CaptureActivations(["then_mm"], Rows)["then_mm"];

        Assert.Equal([Rows, 4L], captured.ShapeArray());
        AssertClose(MatMul(Inputs(), Weight(model, "w_then"), Rows), captured.AsSpan<float>().ToArray());
    }

    [Fact]
    public void A_capture_of_a_branch_no_sample_takes_says_so()
    {
        OnnxModel model = Branched();
        using IDataSource data = Bound(model, taken: false);

        var e = Assert.Throws<InvalidOperationException>(() => Context(model, data, batchSize: 4).CaptureActivations(["then_mm"], Rows));
        Assert.Contains("then_mm", e.Message, StringComparison.Ordinal);
        Assert.Contains("branch", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_runner_fetches_branch_tensors_and_an_empty_one_for_the_branch_not_taken()
    {
        OnnxModel model = Branched();
        var inputs = new Dictionary<string, DenseTensor>
        {
            ["x"] = DenseTensor.FromFloats(Inputs(), Rows, 4),
            ["c"] = new DenseTensor(ElementType.Bool, Array.Empty<long>(), new[] { (byte)1 }),
        };

        IReadOnlyDictionary<string, DenseTensor> r = new ModelRunner().Run(model, inputs, ["then_mm", "else_mm", "y"]);

        AssertClose(MatMul(Inputs(), Weight(model, "w_then"), Rows), r["then_mm"].AsSpan<float>().ToArray());
        Assert.Equal(0, r["else_mm"].ElementCount);
        Assert.Equal(r["then_mm"].AsSpan<float>().ToArray().Select(v => Math.Max(v, 0f)), r["y"].AsSpan<float>().ToArray());
    }

    [Fact]
    public void A_pass_may_keep_a_branch_node_in_float_but_not_a_node_no_scope_has()
    {
        OnnxModel model = Branched();
        using IDataSource data = Bound(model, taken: true);
        var decisions = new RecipeDecisions();
        PassContext context = Context(model, data, batchSize: 4, decisions);

        context.KeepInFloat("then_matmul", "measured destructive");

        Assert.Throws<ArgumentException>(() => context.KeepInFloat("no_such_node", "typo"));
        var options = new EncodeOptions { Profile = DeviceProfiles.CpuX64Vnni };
        CalibrationResult calibrated = Calibrator.Run(model, data, new CalibrationRequest { Tensors = QdqEncoder.Plan(model, options), BatchSize = 4, BatchSizeFromBudget = false, Bins = 0 });
        var ranges = calibrated.Observers.Where(o => o.Value.Count > 0).ToDictionary(o => o.Key, o => new TensorRange(o.Value.Min, o.Value.Max), StringComparer.Ordinal);
        EncodeResult kept = QdqEncoder.Encode(model, ranges, decisions.Result(model).ApplyTo(options));
        EncodeResult plain = QdqEncoder.Encode(model, ranges, options);

        Assert.Contains(plain.QuantizedLayers, l => l.NodeName == "then_matmul");
        Assert.DoesNotContain(kept.QuantizedLayers, l => l.NodeName == "then_matmul");
        Assert.Contains(new UnquantizedNode("then_matmul", "MatMul", "kept in float by pass 'scope-pass': measured destructive"), kept.UnquantizedNodes);
    }

    [Fact]
    public void A_capture_on_a_streamed_model_feeds_each_window_the_state_the_one_before_computed()
    {
        OnnxModel model = StreamFeedbackTests.Cell();
        using IDataSource data = ConstantInputSource.Wrap(new InMemoryDataSource("x", [("x", DenseTensor.FromFloats(Inputs(), Rows, 4))]), model,
            [new InputBindingConfig("h", 0, [1, 4], new SourceLocation("quantize.yaml", 3, 3), "hN")]);

        IReadOnlyDictionary<string, DenseTensor> captured = Context(model, data, batchSize: 1).CaptureActivations(["h", "pre"], Rows);

        // By hand: pre = x·Wx + h·Wh, hN = tanh(pre), h of window w is hN of window w − 1 (zeros first).
        float[] x = Inputs(), wx = Weight(model, "wx"), wh = Weight(model, "wh");
        var h = new float[4];
        var hs = new List<float>();
        var pres = new List<float>();
        for (int w = 0; w < Rows; w++)
        {
            float[] pre = MatMul(x.AsSpan(w * 4, 4).ToArray(), wx, 1).Zip(MatMul(h, wh, 1), (a, b) => a + b).ToArray();
            hs.AddRange(h);
            pres.AddRange(pre);
            h = pre.Select(MathF.Tanh).ToArray();
        }

        Assert.Equal([Rows, 4L], captured["h"].ShapeArray());
        AssertClose(hs.ToArray(), captured["h"].AsSpan<float>().ToArray());
        AssertClose(pres.ToArray(), captured["pre"].AsSpan<float>().ToArray());
        Assert.Contains(captured["h"].AsSpan<float>().ToArray(), v => v != 0f); // the state did move
    }

    [Fact]
    public void A_capture_on_a_streamed_model_in_batches_is_refused()
    {
        OnnxModel model = StreamFeedbackTests.Cell();
        using IDataSource data = ConstantInputSource.Wrap(new InMemoryDataSource("x", [("x", DenseTensor.FromFloats(Inputs(), Rows, 4))]), model,
            [new InputBindingConfig("h", 0, [1, 4], new SourceLocation("quantize.yaml", 3, 3), "hN")]);

        var e = Assert.Throws<QuantBuild.Abstractions.Diagnostics.QuantBuildException>(() => Context(model, data, batchSize: 2).CaptureActivations(["pre"], Rows));
        Assert.Equal("QB1306", e.Code);
    }

    private static PassContext Context(OnnxModel model, IDataSource data, int batchSize, RecipeDecisions? decisions = null) =>
        new("x64", "scope-pass", model, DeviceProfiles.CpuX64Vnni, new TargetWeightFormat(8, true, null), 1,
            new PassEnvironment { Calibration = data, BatchSize = batchSize }, decisions ?? new RecipeDecisions(), CancellationToken.None);

    internal static IDataSource Bound(OnnxModel model, bool taken) =>
        ConstantInputSource.Wrap(new InMemoryDataSource("x", [("x", DenseTensor.FromFloats(Inputs(), Rows, 4))]), model,
            [new InputBindingConfig("c", taken ? 1 : 0, Array.Empty<long>(), new SourceLocation("quantize.yaml", 1, 1))]);

    private static float[] Inputs() => TestGraphs.Normal(7, Rows * 4, 1f);

    private static float[] Weight(OnnxModel model, string name) =>
        MemoryMarshal.Cast<byte, float>(model.Graph.Initializers.Single(t => t.Name == name).Data.Span).ToArray();

    // [rows, 4] · [4, 4]
    private static float[] MatMul(float[] a, float[] b, int rows)
    {
        var c = new float[rows * 4];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < 4; j++)
            {
                for (int k = 0; k < 4; k++)
                {
                    c[(r * 4) + j] += a[(r * 4) + k] * b[(k * 4) + j];
                }
            }
        }

        return c;
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"[{i}] expected {expected[i]}, got {actual[i]}");
        }
    }

    // x → If(c): then → MatMul(x, w_then) → Relu; else → MatMul(x, w_else). Both weights in the main graph.
    internal static OnnxModel Branched()
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("x", ElementType.Float, "n", 4));
        g.Inputs.Add(TestGraphs.Value("c", ElementType.Bool));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, "n", 4));
        g.AddWeight("w_then", 3, 0.5f, 4, 4);
        g.AddWeight("w_else", 4, 0.5f, 4, 4);
        var then = new Graph { Name = "then" };
        then.AddNode("MatMul", "then_matmul", ["x", "w_then"], ["then_mm"]);
        then.AddNode("Relu", "then_relu", ["then_mm"], ["then_out"]);
        then.Outputs.Add(TestGraphs.Value("then_out", ElementType.Float, "n", 4));
        var otherwise = new Graph { Name = "else" };
        otherwise.AddNode("MatMul", "else_matmul", ["x", "w_else"], ["else_mm"]);
        otherwise.Outputs.Add(TestGraphs.Value("else_mm", ElementType.Float, "n", 4));
        g.AddNode("If", "branch", ["c"], ["y"], NodeAttribute.FromGraph("then_branch", then), NodeAttribute.FromGraph("else_branch", otherwise));
        return model;
    }
}
