using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Onnx;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Quantization.Operators;

/// <summary>LSTM becomes DynamicQuantizeLSTM: int8 weights, no calibration, outputs close to ONNX Runtime's fp32 LSTM.</summary>
public sealed class LstmQuantizerTests(ITestOutputHelper output)
{
    private const int Steps = 20;
    private const int Batch = 4;
    private const int InputSize = 24;
    private const int Hidden = 32;
    private static readonly EncodeOptions Vnni = new() { Profile = DeviceProfiles.CpuX64Vnni };

    [Theory]
    [InlineData("forward")]
    [InlineData("bidirectional")]
    public void Lstm_weights_become_int8_and_the_sequence_output_stays_close_to_fp32(string direction)
    {
        OnnxModel fp32 = Lstm(direction);

        Assert.Empty(QdqEncoder.Plan(fp32, Vnni));
        EncodeResult result = QdqEncoder.Encode(fp32, new Dictionary<string, TensorRange>(), Vnni);

        Node lstm = Assert.Single(result.Model.Graph.Nodes, n => n.Name == "lstm");
        Assert.Equal("DynamicQuantizeLSTM", lstm.OpType);
        Assert.Equal("com.microsoft", lstm.Domain);
        Assert.Equal(ElementType.Int8, result.Model.Graph.Initializer(lstm.Inputs[1]).ElementType);
        Assert.DoesNotContain(result.Model.Graph.Initializers, t => t.Name is "W" or "R");
        Assert.Empty(result.UnquantizedNodes);
        Assert.True(OnnxModelSaver.SaveToBytes(result.Model).Length < OnnxModelSaver.SaveToBytes(fp32).Length * 0.4);

        DenseTensor x = DenseTensor.FromFloats(TestGraphs.Normal(7, Steps * Batch * InputSize, 1f), Steps, Batch, InputSize);
        float[] expected = OrtHarness.Run(fp32, "x", x, "y");
        float[] actual = OrtHarness.Run(result.Model, "x", x, "y");
        double cosine = OrtHarness.Cosine(expected, actual);
        double maxError = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"{direction}: cosine {cosine:F6}, max |error| {maxError:F4}");
        Assert.True(cosine > 0.999, $"cosine {cosine}");
    }

    /// <summary>x[T, N, I] → LSTM(hidden 32, bias, given direction) → y[T, dirs, N, H].</summary>
    internal static OnnxModel Lstm(string direction)
    {
        int directions = direction == "bidirectional" ? 2 : 1;
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("x", ElementType.Float, Steps, Batch, InputSize));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, Steps, directions, Batch, Hidden));
        g.AddWeight("W", 1, 0.25f, directions, 4 * Hidden, InputSize);
        g.AddWeight("R", 2, 0.2f, directions, 4 * Hidden, Hidden);
        g.AddWeight("B", 3, 0.1f, directions, 8 * Hidden);
        g.AddNode("LSTM", "lstm", new[] { "x", "W", "R", "B" }, new[] { "y" },
            NodeAttribute.FromInt("hidden_size", Hidden), NodeAttribute.FromString("direction", direction));
        return model;
    }
}
