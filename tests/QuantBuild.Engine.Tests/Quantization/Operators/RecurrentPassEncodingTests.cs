using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Plugins;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Quantization.Operators;

/// <summary>
/// A recipe pass's <see cref="IPassContext.SetWeightEncoding"/> on an LSTM/GRU/RNN weight is honoured when int8 codes
/// with one scale per gate row and direction (what the recurrent writers store) can hold it exactly, and refused
/// with QB3009 otherwise: never replaced by the encoder's own rounding.
/// </summary>
public sealed class RecurrentPassEncodingTests(ITestOutputHelper output)
{
    private const int Steps = 20;
    private const int Batch = 4;
    private const int InputSize = 24;

    [Theory]
    [InlineData("GRU", "forward", null)]
    [InlineData("GRU", "bidirectional", 1)]
    [InlineData("RNN", "forward", 0)]
    [InlineData("LSTM", "bidirectional", 1)]
    [InlineData("LSTM", "forward", null)]
    public void A_pass_encoding_with_one_scale_per_gate_row_is_what_the_file_stores(string op, string direction, int? axis)
    {
        OnnxModel fp32 = op == "LSTM" ? LstmQuantizerTests.Lstm(direction) : GruQuantizerTests.Recurrent(op, direction, 0);
        TensorValue w = fp32.Graph.Initializer("W");
        WeightEncoding chosen = PassEncoding(w.Floats(), w.Dims, axis, ElementType.Int8, zeroPoint: 0, out float[] decoded);

        EncodeResult result = QdqEncoder.Encode(fp32, new Dictionary<string, TensorRange>(), OptionsAfterPass(fp32, chosen, modelPath: null));

        float[] written = op == "LSTM" ? DecodeLstm(result.Model.Graph, w.Dims) : DecodeCastMul(result.Model.Graph, "rnn", w.Dims);
        // The pass's codes and scales exactly (a third of its codes differ from round-to-nearest's), not rounded again.
        Assert.Equal(decoded, written);
        Assert.Single(result.QuantizedLayers);
        DenseTensor x = DenseTensor.FromFloats(TestGraphs.Normal(7, Steps * Batch * InputSize, 1f), Steps, Batch, InputSize);
        double cosine = OrtHarness.Cosine(OrtHarness.Run(fp32, "x", x, "y"), OrtHarness.Run(result.Model, "x", x, "y"));
        output.WriteLine($"{op} {direction} axis {axis?.ToString() ?? "none"}: cosine {cosine:F6}");
        Assert.True(cosine > 0.99, $"cosine {cosine}");
    }

    [Theory]
    [InlineData("GRU", 2, ElementType.Int8, 0, "scales change along the input axis")]
    [InlineData("GRU", 1, ElementType.Int8, 3, "zero point 3 is not 0")]
    [InlineData("LSTM", 1, ElementType.Int4, 0, "codes are int4, not int8")]
    [InlineData("LSTM", 2, ElementType.Int8, 0, "scales change along the input axis")]
    public void A_pass_encoding_int8_rows_cannot_hold_is_QB3009_naming_the_weight_the_layer_and_the_model(string op, int axis, ElementType type, int zeroPoint, string why)
    {
        OnnxModel fp32 = op == "LSTM" ? LstmQuantizerTests.Lstm("forward") : GruQuantizerTests.Recurrent(op, "forward", 0);
        TensorValue w = fp32.Graph.Initializer("W");
        WeightEncoding chosen = PassEncoding(w.Floats(), w.Dims, axis, type, zeroPoint, out _);
        string model = Path.Combine(Path.GetTempPath(), "speech.onnx");

        var error = Assert.Throws<QuantBuildException>(() =>
            QdqEncoder.Encode(fp32, new Dictionary<string, TensorRange>(), OptionsAfterPass(fp32, chosen, model)));

        output.WriteLine(error.Message);
        Assert.Equal("QB3009", error.Code);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'W' of {op} layer '{(op == "LSTM" ? "lstm" : "rnn")}' in speech.onnx from weights-pass", error.Message, StringComparison.Ordinal);
        Assert.Equal(model, error.FilePath);
        Assert.Contains("exclude: nodes", error.Fix, StringComparison.Ordinal);
    }

    // The options after a pass called SetWeightEncoding("W", chosen) through its context, as the recipe stage hands them on.
    private static EncodeOptions OptionsAfterPass(OnnxModel model, WeightEncoding chosen, string? modelPath)
    {
        var decisions = new RecipeDecisions();
        var env = new PassEnvironment { Calibration = new InMemoryDataSource("x", [("x", DenseTensor.Zeros(ElementType.Float, 1, Batch, InputSize))]) };
        var context = new PassContext("x64", "weights-pass", model, DeviceProfiles.CpuX64Vnni, new TargetWeightFormat(8, true, null), 1, env, decisions, CancellationToken.None);
        context.SetWeightEncoding("W", chosen);
        context.Close();
        return decisions.Result(model).ApplyTo(new EncodeOptions { Profile = DeviceProfiles.CpuX64Vnni, ModelPath = modelPath });
    }

    /// <summary>
    /// A pass's own encoding of <paramref name="w"/>: scales max|w|/100 per slice of <paramref name="axis"/> (not
    /// round-to-nearest's /127), codes rounded down rather than to nearest, so the file shows whose codes it holds.
    /// </summary>
    private static WeightEncoding PassEncoding(float[] w, long[] dims, int? axis, ElementType type, int zeroPoint, out float[] decoded)
    {
        long inner = axis is int a ? dims.Skip(a + 1).Aggregate(1L, (x, y) => x * y) : w.Length;
        int channels = axis is int b ? (int)dims[b] : 1;
        int qMax = type == ElementType.Int4 ? 7 : 127;
        var scales = new float[channels];
        for (int i = 0; i < w.Length; i++)
        {
            scales[i / inner % channels] = Math.Max(scales[i / inner % channels], Math.Abs(w[i]) / (qMax * 100f / 127f));
        }

        var codes = new int[w.Length];
        decoded = new float[w.Length];
        for (int i = 0; i < w.Length; i++)
        {
            float s = scales[i / inner % channels];
            codes[i] = Math.Clamp((int)MathF.Floor(w[i] / s) + zeroPoint, -qMax - 1, qMax);
            decoded[i] = (codes[i] - zeroPoint) * s;
        }

        return new WeightEncoding
        {
            Bits = type == ElementType.Int4 ? 4 : 8, Type = type, Axis = axis, Scales = scales, Codes = codes,
            ZeroPoints = zeroPoint == 0 ? null : Enumerable.Repeat(zeroPoint, channels).ToArray(),
        };
    }

    // GRU/RNN: W is int8 codes → Cast → Mul by a [directions, rows, 1] scale.
    private static float[] DecodeCastMul(Graph g, string node, long[] dims)
    {
        Node mul = g.ProducerOf(g.Nodes.Single(n => n.Name == node).Inputs[1]);
        sbyte[] codes = g.Initializer(g.ProducerOf(mul.Inputs[0]).Inputs[0]).Int8s();
        float[] scales = g.Initializer(mul.Inputs[1]).Floats();
        return codes.Select((c, i) => c * scales[i / dims[2]]).ToArray();
    }

    // DynamicQuantizeLSTM: W is int8 [directions, input, rows] (LSTM's transposed) with a [directions, rows] scale.
    private static float[] DecodeLstm(Graph g, long[] dims)
    {
        Node lstm = g.Nodes.Single(n => n.OpType == "DynamicQuantizeLSTM");
        sbyte[] codes = g.Initializer(lstm.Inputs[1]).Int8s();
        float[] scales = g.Initializer(lstm.Inputs[8]).Floats();
        long rows = dims[1], columns = dims[2];
        var values = new float[codes.Length];
        for (long i = 0; i < values.Length; i++)
        {
            long d = i / (rows * columns), r = i / columns % rows, c = i % columns;
            values[i] = codes[(d * columns + c) * rows + r] * scales[d * rows + r];
        }

        return values;
    }
}
