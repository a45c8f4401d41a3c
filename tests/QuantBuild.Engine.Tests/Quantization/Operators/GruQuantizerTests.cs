using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Fallback;
using QuantBuild.Engine.Inspection;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Onnx;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Quantization.Operators;

/// <summary>
/// GRU and RNN keep their op (ONNX Runtime has no integer kernel for them) with W and R stored int8 behind a Cast and
/// a Mul that ONNX Runtime folds at load: the weights in the file are int8, the outputs stay close to fp32.
/// </summary>
public sealed class GruQuantizerTests(ITestOutputHelper output)
{
    private const int Steps = 20;
    private const int Batch = 4;
    private const int InputSize = 24;
    private const int Hidden = 32;
    private static readonly EncodeOptions Vnni = new() { Profile = DeviceProfiles.CpuX64Vnni };

    [Theory]
    [InlineData("GRU", "forward", 0)]
    [InlineData("GRU", "forward", 1)]
    [InlineData("GRU", "bidirectional", 1)]
    [InlineData("RNN", "bidirectional", 0)]
    public void Weights_become_int8_in_the_file_and_onnx_runtime_folds_them_back_at_load(string op, string direction, int linearBeforeReset)
    {
        OnnxModel fp32 = Recurrent(op, direction, linearBeforeReset);

        Assert.Empty(QdqEncoder.Plan(fp32, Vnni));
        EncodeResult result = QdqEncoder.Encode(fp32, new Dictionary<string, TensorRange>(), Vnni);

        Graph g = result.Model.Graph;
        Node node = Assert.Single(g.Nodes, n => n.Name == "rnn");
        Assert.Equal(op, node.OpType);
        foreach (int input in new[] { 1, 2 })
        {
            Node mul = g.ProducerOf(node.Inputs[input]);
            Node cast = g.ProducerOf(mul.Inputs[0]);
            Assert.Equal(("Mul", "Cast"), (mul.OpType, cast.OpType));
            TensorValue codes = g.Initializer(cast.Inputs[0]);
            Assert.Equal(ElementType.Int8, codes.ElementType);
            Assert.Equal(fp32.Graph.Initializer(fp32.Graph.Nodes.Single(n => n.Name == "rnn").Inputs[input]).Dims, codes.Dims);
        }

        Assert.DoesNotContain(g.Initializers, t => t.Name is "W" or "R");
        Assert.Empty(result.UnquantizedNodes);
        QuantizedLayer layer = Assert.Single(result.QuantizedLayers);
        Assert.Equal(("rnn", "W", false, true), (layer.NodeName, layer.Weight, layer.Dynamic, layer.StoredOnly));
        Assert.True(OnnxModelSaver.SaveToBytes(result.Model).Length < OnnxModelSaver.SaveToBytes(fp32).Length * 0.4);
        // The manifest's record of the widths written.
        Assert.Equal(["rnn"], Assert.Single(WrittenWeights.Bits(g), kv => kv.Key == 8).Value);

        // What makes it as fast as fp32: ORT folds the expansion once, leaving the plain op on an fp32 weight.
        Dictionary<string, int> optimized = OrtHarness.OpCounts(OrtHarness.Optimized(result.Model));
        output.WriteLine($"optimized: {OrtHarness.Describe(optimized)}");
        Assert.Equal(new Dictionary<string, int> { [op] = 1 }, optimized);

        DenseTensor x = DenseTensor.FromFloats(TestGraphs.Normal(7, Steps * Batch * InputSize, 1f), Steps, Batch, InputSize);
        float[] expected = OrtHarness.Run(fp32, "x", x, "y");
        float[] actual = OrtHarness.Run(result.Model, "x", x, "y");
        double cosine = OrtHarness.Cosine(expected, actual);
        output.WriteLine($"{op} {direction} linear_before_reset={linearBeforeReset}: cosine {cosine:F7}, max |error| {expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max():F5}");
        Assert.True(cosine > 0.999, $"cosine {cosine}");
    }

    [Theory]
    [InlineData(ActivationMode.Static)]
    [InlineData(ActivationMode.Dynamic)]
    public void A_torch_exported_gru_rnn_stack_is_int8_in_the_file_under_either_activation_mode(ActivationMode mode)
    {
        OnnxModel fp32 = OnnxModelLoader.Load(DynamicActivationTests.Fixture("gru_rnn.onnx"));
        var options = Vnni with { Activations = mode };
        DenseTensor Data(int seed) => DenseTensor.FromFloats(TestGraphs.Normal(seed, 8 * 20 * 16, 1f), 8, 20, 16);

        IReadOnlyList<string> plan = QdqEncoder.Plan(fp32, options);
        // The recurrent layers read no calibrated range: only the static Gemm head's input needs one.
        Assert.DoesNotContain("x", plan);
        Dictionary<string, TensorRange> ranges = plan.Count == 0 ? new() : OrtHarness.MinMax(fp32, plan, [Data(3), Data(4)], "x");
        Assert.Equal(mode == ActivationMode.Dynamic, plan.Count == 0);
        EncodeResult result = QdqEncoder.Encode(fp32, ranges, options);

        Graph g = result.Model.Graph;
        List<Node> recurrent = g.Nodes.Where(n => n.OpType is "GRU" or "RNN").ToList();
        Assert.Equal(["GRU", "RNN", "GRU"], recurrent.Select(n => n.OpType));
        Assert.All(recurrent, n => Assert.All(new[] { 1, 2 }, i =>
            Assert.Equal(ElementType.Int8, g.Initializer(g.ProducerOf(g.ProducerOf(n.Inputs[i]).Inputs[0]).Inputs[0]).ElementType)));
        Assert.DoesNotContain(result.UnquantizedNodes, n => n.OpType is "GRU" or "RNN");
        Assert.Equal(3, result.QuantizedLayers.Count(l => l.OpType is "GRU" or "RNN"));
        Assert.Equal(mode == ActivationMode.Dynamic ? "DynamicQuantizeMatMul" : "Gemm", g.Nodes.Single(n => n.Name == fp32.Graph.Nodes.Single(f => f.OpType == "Gemm").Name).OpType);

        DenseTensor x = Data(11);
        double cosine = OrtHarness.Cosine(OrtHarness.Run(fp32, "x", x, "y"), OrtHarness.Run(result.Model, "x", x, "y"));
        output.WriteLine($"{mode}: cosine {cosine:F6}");
        Assert.True(cosine > 0.99, $"cosine {cosine}");
    }

    [Fact]
    public void Inspect_calls_every_gru_and_rnn_quantizable_as_run_quantizes_them()
    {
        OnnxModel model = OnnxModelLoader.Load(DynamicActivationTests.Fixture("gru_rnn.onnx"));

        ModelReport report = ModelInspector.Inspect(model, DynamicActivationTests.Fixture("gru_rnn.onnx"));
        EncodeResult encoded = QdqEncoder.Encode(model, new Dictionary<string, TensorRange>(), Vnni with { Activations = ActivationMode.Dynamic });

        List<QuantizableNode> recurrent = report.Quantizable.Where(q => q.OpType is "GRU" or "RNN").ToList();
        Assert.Equal(3, recurrent.Count);
        Assert.All(recurrent, q => Assert.Null(q.Fp32Reason));
        Assert.All(recurrent, q => Assert.Contains(encoded.QuantizedLayers, l => l.NodeName == q.Name && l.Weight == q.Weight));
    }

    [Fact]
    public void The_fallback_can_put_a_gru_and_an_lstm_back_in_fp32()
    {
        // x → GRU → Squeeze → LSTM → y; the gate here passes only on fp32 numbers, so both must go back.
        OnnxModel fp32 = Recurrent("GRU", "forward", 1);
        Graph g = fp32.Graph;
        g.Outputs.Clear();
        g.Outputs.Add(TestGraphs.Value("z"));
        g.Initializers.Add(new TensorValue { Name = "axes", ElementType = ElementType.Int64, Dims = [1], Data = BitConverter.GetBytes(1L) });
        g.AddNode("Squeeze", "squeeze", new[] { "y", "axes" }, new[] { "h" });
        g.AddWeight("W_lstm", 5, 0.25f, 1, 4 * Hidden, Hidden);
        g.AddWeight("R_lstm", 6, 0.2f, 1, 4 * Hidden, Hidden);
        g.AddNode("LSTM", "lstm", new[] { "h", "W_lstm", "R_lstm" }, new[] { "z" }, NodeAttribute.FromInt("hidden_size", Hidden));
        DenseTensor x = DenseTensor.FromFloats(TestGraphs.Normal(9, Steps * Batch * InputSize, 1f), Steps, Batch, InputSize);
        float[] expected = OrtHarness.Run(fp32, "x", x, "z");
        TrialResult Trial(EncodeOptions options)
        {
            EncodeResult e = QdqEncoder.Encode(fp32, new Dictionary<string, TensorRange>(), options);
            double error = expected.Zip(OrtHarness.Run(e.Model, "x", x, "z"), (a, b) => (double)Math.Abs(a - b)).Max();
            return new TrialResult(-error, error, 0, 1, error < 1e-6, OnnxModelSaver.SaveToBytes(e.Model).Length);
        }

        EncodeResult recipe = QdqEncoder.Encode(fp32, new Dictionary<string, TensorRange>(), Vnni);
        var search = new FallbackSearch(fp32, Vnni, recipe.QuantizedLayers, new FallbackConfig(), Trial);
        TrialResult initial = Trial(Vnni);
        (FallbackReport report, EncodeOptions chosen, TrialResult final) = search.Run(initial);

        Assert.Equal(2, search.LayerCount);
        Assert.False(initial.Passed);
        Assert.True(final.Passed);
        Assert.Equal(["lstm", "rnn"], report.Kept.Order(StringComparer.Ordinal));
        Assert.All(report.Layers, l => Assert.Equal("fp32", l.Final));
        // Bits per weight count W and R: both are stored int8.
        Assert.Equal(3 * Hidden * (InputSize + Hidden), report.Layers.Single(l => l.Node == "rnn").Weights);
        Assert.Equal(4 * Hidden * 2 * Hidden, report.Layers.Single(l => l.Node == "lstm").Weights);
        EncodeResult kept = QdqEncoder.Encode(fp32, new Dictionary<string, TensorRange>(), chosen);
        Assert.Equal(["GRU", "LSTM"], kept.Model.Graph.Nodes.Where(n => n.Name is "rnn" or "lstm").Select(n => n.OpType));
        Assert.DoesNotContain(kept.Model.Graph.Initializers, t => t.ElementType == ElementType.Int8);
    }

    /// <summary>x[T, N, I] → GRU/RNN(hidden 32, bias, given direction) named "rnn" → y[T, dirs, N, H].</summary>
    internal static OnnxModel Recurrent(string op, string direction, int linearBeforeReset)
    {
        int directions = direction == "bidirectional" ? 2 : 1;
        int gates = op == "GRU" ? 3 : 1;
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("x", ElementType.Float, Steps, Batch, InputSize));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, Steps, directions, Batch, Hidden));
        g.AddWeight("W", 1, 0.25f, directions, gates * Hidden, InputSize);
        g.AddWeight("R", 2, 0.2f, directions, gates * Hidden, Hidden);
        g.AddWeight("B", 3, 0.1f, directions, 2 * gates * Hidden);
        var attributes = new List<NodeAttribute> { NodeAttribute.FromInt("hidden_size", Hidden), NodeAttribute.FromString("direction", direction) };
        if (op == "GRU")
        {
            attributes.Add(NodeAttribute.FromInt("linear_before_reset", linearBeforeReset));
        }

        g.AddNode(op, "rnn", new[] { "x", "W", "R", "B" }, new[] { "y" }, attributes.ToArray());
        return model;
    }
}
