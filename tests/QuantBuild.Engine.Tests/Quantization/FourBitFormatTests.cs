using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Runtime;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Quantization;

/// <summary>
/// 4-bit weight-only MatMul in both deployed forms, checked against ONNX Runtime: the weights are decoded from the written
/// initializers by the formats' own specs (MatMulNBits: B [N, blocks, block/2], scales [N·blocks], zero points packed
/// per column; DequantizeLinear: int4/uint4 [K, N] with [blocks, N] scales), and ORT running the written node must match
/// ORT running a plain fp32 MatMul on those decoded weights.
/// </summary>
public sealed class FourBitFormatTests(ITestOutputHelper output)
{
    // Odd K: the last block of every size is padded (203 = 6·32 + 11 = 3·64 + 11 = 128 + 75).
    private const int K = 203;
    private const int N = 24;
    private static readonly Dictionary<string, TensorRange> NoRanges = new();

    public static IEnumerable<object[]> Layouts() =>
        from block in new[] { 32, 64, 128 }
        from zeroPoints in new[] { false, true }
        select new object[] { block, zeroPoints };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void MatMulNBits_matches_a_float_MatMul_on_its_decoded_weights(int blockSize, bool zeroPoints)
    {
        OnnxModel model = Model(out float[] w);
        DenseTensor a = Input();

        EncodeResult result = QdqEncoder.Encode(model, NoRanges, Options(FourBitFormat.MatMulNBits, blockSize, zeroPoints, accuracyLevel: 1));

        Node node = result.Model.Graph.Single("MatMulNBits");
        Assert.Equal("com.microsoft", node.Domain);
        Assert.Equal("mm", node.Name);
        Assert.Equal(new long[] { K, N, 4, blockSize, 1 }, new[] { "K", "N", "bits", "block_size", "accuracy_level" }.Select(x => node.FindAttribute(x)!.Int!.Value));
        Assert.Equal(zeroPoints ? 4 : 3, node.Inputs.Count);
        Assert.DoesNotContain(result.Model.Graph.Nodes, n => n.OpType is "MatMul" or "DequantizeLinear");
        Assert.Contains(result.Model.OpsetImports, o => o.Domain == "com.microsoft");
        Assert.Equal(17, result.Model.OpsetVersion());
        float[] decoded = DecodeMatMulNBits(result.Model.Graph, blockSize);
        AssertRoundToNearest(w, decoded, blockSize, zeroPoints);

        float[] quantized = OrtHarness.Run(result.Model, "a", a, "y");
        float[] reference = OrtHarness.Run(WithWeight(model, decoded), "a", a, "y");
        double error = MaxRelativeError(reference, quantized);
        output.WriteLine($"block {blockSize}, zero points {zeroPoints}: max |Δ| / max |y| = {error:E2}");
        Assert.True(error < 1e-5, $"accuracy level 1 (fp32 compute) differs from the decoded fp32 MatMul by {error:E2}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Accuracy_level_4_quantizes_the_activations_and_stays_close(bool zeroPoints)
    {
        OnnxModel model = Model(out _);
        DenseTensor a = Input();

        EncodeResult level4 = QdqEncoder.Encode(model, NoRanges, Options(FourBitFormat.MatMulNBits, 32, zeroPoints, accuracyLevel: 4));
        EncodeResult level1 = QdqEncoder.Encode(model, NoRanges, Options(FourBitFormat.MatMulNBits, 32, zeroPoints, accuracyLevel: 1));

        float[] reference = OrtHarness.Run(WithWeight(model, DecodeMatMulNBits(level4.Model.Graph, 32)), "a", a, "y");
        float[] four = OrtHarness.Run(level4.Model, "a", a, "y");
        double error4 = MaxRelativeError(reference, four);
        double error1 = MaxRelativeError(reference, OrtHarness.Run(level1.Model, "a", a, "y"));
        output.WriteLine($"zero points {zeroPoints}: level 4 {error4:E2}, level 1 {error1:E2}");
        Assert.Equal(4, level4.Model.Graph.Single("MatMulNBits").FindAttribute("accuracy_level")!.Int);
        Assert.True(error4 > 10 * error1, "level 4 should compute with int8 activations, not fp32");
        Assert.True(error4 < 0.02, $"level 4 error {error4:E2}");
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Blocked_DequantizeLinear_matches_a_float_MatMul_on_its_decoded_weights(int blockSize, bool zeroPoints)
    {
        OnnxModel model = Model(out float[] w);
        DenseTensor a = Input();

        EncodeResult result = QdqEncoder.Encode(model, NoRanges, Options(FourBitFormat.BlockedDequantize, blockSize, zeroPoints, accuracyLevel: 4));

        Graph g = result.Model.Graph;
        Node dq = g.DequantizeFeeding(g.Single("MatMul"), 1);
        Assert.Equal(blockSize, dq.FindAttribute("block_size")!.Int);
        Assert.Equal(zeroPoints ? ElementType.UInt4 : ElementType.Int4, g.Initializer(dq.Inputs[0]).ElementType);
        Assert.Equal(21, result.Model.OpsetVersion());
        float[] decoded = DecodeBlockedDequantize(g, dq);
        AssertRoundToNearest(w, decoded, blockSize, zeroPoints);

        // Without graph optimizations ORT runs the DequantizeLinear itself: exactly the decoded weights, then MatMul.
        float[] quantized = OrtHarness.Run(result.Model, "a", a, "y", GraphOptimizationLevel.DisableAll);
        float[] reference = OrtHarness.Run(WithWeight(model, decoded), "a", a, "y", GraphOptimizationLevel.DisableAll);
        Assert.True(MaxRelativeError(reference, quantized) < 1e-5);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Both_formats_of_one_weight_decode_to_the_same_floats(int blockSize, bool zeroPoints)
    {
        OnnxModel model = Model(out _);

        Graph nbits = QdqEncoder.Encode(model, NoRanges, Options(FourBitFormat.MatMulNBits, blockSize, zeroPoints, 4)).Model.Graph;
        Graph blocked = QdqEncoder.Encode(model, NoRanges, Options(FourBitFormat.BlockedDequantize, blockSize, zeroPoints, 4)).Model.Graph;

        Assert.Equal(DecodeMatMulNBits(nbits, blockSize), DecodeBlockedDequantize(blocked, blocked.DequantizeFeeding(blocked.Single("MatMul"), 1)));
    }

    [Fact]
    public void Zero_points_fit_weights_that_are_not_centred_on_zero_better()
    {
        OnnxModel model = TestGraphs.NewModel();
        model.Graph.Inputs.Add(TestGraphs.Value("a", ElementType.Float, "batch", K));
        model.Graph.Outputs.Add(TestGraphs.Value("y", ElementType.Float, "batch", N));
        float[] w = TestGraphs.Normal(11, K * N, 0.1f).Select(v => v + 0.5f).ToArray();
        model.Graph.Initializers.Add(TensorValue.FromFloats("w", w, K, N));
        model.Graph.AddNode("MatMul", "mm", new[] { "a", "w" }, new[] { "y" });

        double symmetric = Mse(w, DecodeMatMulNBits(QdqEncoder.Encode(model, NoRanges, Options(FourBitFormat.MatMulNBits, 32, false, 4)).Model.Graph, 32));
        double asymmetric = Mse(w, DecodeMatMulNBits(QdqEncoder.Encode(model, NoRanges, Options(FourBitFormat.MatMulNBits, 32, true, 4)).Model.Graph, 32));

        output.WriteLine($"weight MSE: symmetric {symmetric:E3}, zero points {asymmetric:E3}");
        Assert.True(asymmetric < 0.5 * symmetric);
    }

    [Fact]
    public void The_same_model_and_settings_write_the_same_bytes()
    {
        EncodeOptions options = Options(FourBitFormat.MatMulNBits, 64, true, 4);

        byte[] first = Onnx.OnnxModelSaver.SaveToBytes(QdqEncoder.Encode(Model(out _), NoRanges, options).Model);
        byte[] second = Onnx.OnnxModelSaver.SaveToBytes(QdqEncoder.Encode(Model(out _), NoRanges, options).Model);

        Assert.Equal(first, second);
    }

    public static IEnumerable<object[]> PassEncodings() =>
    [
        ["blocks of 32 along K, int4", 0, 32, ElementType.Int4],
        ["blocks of 64 along K, uint4 with zero points", 0, 64, ElementType.UInt4],
        ["per output channel, 4 bits in int8 (AdaQuant's per-channel form)", 1, null!, ElementType.Int8],
    ];

    [Theory]
    [MemberData(nameof(PassEncodings))]
    public void A_recipe_passes_4_bit_codes_are_what_MatMulNBits_ships(string form, int axis, int? blockSize, ElementType type)
    {
        OnnxModel model = Model(out float[] w);
        WeightEncoding chosen = PassEncoding(w, axis, blockSize, type, out float[] expected);

        EncodeResult result = QdqEncoder.Encode(model, NoRanges, Options(FourBitFormat.MatMulNBits, 32, zeroPoints: false, accuracyLevel: 1) with
        {
            WeightOverrides = new Dictionary<string, WeightEncoding> { ["w"] = chosen },
        });

        Node node = result.Model.Graph.Single("MatMulNBits");
        int written = (int)node.FindAttribute("block_size")!.Int!.Value;
        Assert.Equal(blockSize ?? 32, written);
        Assert.Equal(1, node.FindAttribute("accuracy_level")!.Int); // the target's level, as for the layers it rounds itself
        Assert.DoesNotContain(result.Model.Graph.Nodes, n => n.OpType is "MatMul" or "DequantizeLinear" or "QuantizeLinear");
        float[] decoded = DecodeMatMulNBits(result.Model.Graph, written);
        // The pass's codes exactly (they differ from round-to-nearest in about a third of the weights), not re-rounded.
        Assert.Equal(expected, decoded);
        Assert.NotEqual(DecodeMatMulNBits(QdqEncoder.Encode(model, NoRanges, Options(FourBitFormat.MatMulNBits, written, type == ElementType.UInt4, 1)).Model.Graph, written), decoded);
        output.WriteLine($"{form}: written as MatMulNBits block {written}");
        float[] quantized = OrtHarness.Run(result.Model, "a", Input(), "y");
        Assert.True(MaxRelativeError(OrtHarness.Run(WithWeight(model, decoded), "a", Input(), "y"), quantized) < 1e-5);
    }

    [Theory]
    [InlineData(1, 8, "output axis")]
    [InlineData(0, 24, "power of two")]
    public void A_4_bit_pass_encoding_with_no_MatMulNBits_form_is_QB3008(int axis, int blockSize, string reason)
    {
        OnnxModel model = Model(out float[] w);
        WeightEncoding chosen = PassEncoding(w, axis, blockSize, ElementType.Int4, out _);

        var error = Assert.Throws<Abstractions.Diagnostics.QuantBuildException>(() => QdqEncoder.Encode(model, NoRanges,
            Options(FourBitFormat.MatMulNBits, 32, zeroPoints: false, accuracyLevel: 1) with { WeightOverrides = new Dictionary<string, WeightEncoding> { ["w"] = chosen } }));

        Assert.Equal("QB3008", error.Code);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Contains("'w'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_8_bit_pass_encoding_in_a_4_bit_target_stays_an_int8_layer()
    {
        OnnxModel model = Model(out float[] w);
        var scales = Enumerable.Range(0, N).Select(j => Enumerable.Range(0, K).Max(k => Math.Abs(w[k * N + j])) / 127f).ToArray();
        var chosen = new WeightEncoding { Bits = 8, Type = ElementType.Int8, Axis = 1, Scales = scales, Origin = "test" };
        var ranges = new Dictionary<string, TensorRange> { ["a"] = new(-4f, 4f), ["y"] = new(-20f, 20f) };

        EncodeResult result = QdqEncoder.Encode(model, ranges, Options(FourBitFormat.MatMulNBits, 32, false, 1) with
        {
            WeightOverrides = new Dictionary<string, WeightEncoding> { ["w"] = chosen },
        });

        Assert.DoesNotContain(result.Model.Graph.Nodes, n => n.OpType == "MatMulNBits");
        Assert.Contains(result.Model.Graph.Nodes, n => n.OpType == "MatMul");
    }

    // A pass's encoding of w: scales by block / channel as the pass would set them, codes round-to-nearest moved by ±1
    // (clamped) in a third of the weights, so the test can tell the pass's codes from the writer's own rounding.
    private static WeightEncoding PassEncoding(float[] w, int axis, int? blockSize, ElementType type, out float[] expected)
    {
        bool unsigned = type == ElementType.UInt4;
        int groups = axis == 0 ? (K + blockSize!.Value - 1) / blockSize.Value : 1;
        int scaleCount = axis == 0 ? groups * N : N;
        var scales = new float[scaleCount];
        var zeros = new int[scaleCount];
        int Slot(int k, int n) => axis == 0 ? (k / blockSize!.Value) * N + n : n;
        var lo = new float[scaleCount];
        var hi = new float[scaleCount];
        for (int k = 0; k < K; k++)
        {
            for (int n = 0; n < N; n++)
            {
                lo[Slot(k, n)] = Math.Min(lo[Slot(k, n)], w[k * N + n]);
                hi[Slot(k, n)] = Math.Max(hi[Slot(k, n)], w[k * N + n]);
            }
        }

        for (int i = 0; i < scaleCount; i++)
        {
            scales[i] = unsigned ? (hi[i] - lo[i]) / 15f : Math.Max(-lo[i], hi[i]) / 7f;
            zeros[i] = unsigned ? (int)Math.Round(-lo[i] / scales[i]) : 0;
        }

        var random = new Random(11);
        var codes = new int[K * N];
        expected = new float[K * N];
        for (int k = 0; k < K; k++)
        {
            for (int n = 0; n < N; n++)
            {
                int slot = Slot(k, n);
                int code = (int)MathF.Round(w[k * N + n] / scales[slot]) + zeros[slot] + (random.Next(3) - 1);
                code = unsigned ? Math.Clamp(code, 0, 15) : Math.Clamp(code, -8, 7);
                codes[k * N + n] = code;
                expected[k * N + n] = (code - zeros[slot]) * scales[slot];
            }
        }

        return new WeightEncoding
        {
            Bits = 4, Type = type, Axis = axis, BlockSize = blockSize, Scales = scales, ZeroPoints = unsigned ? zeros : null, Codes = codes, Origin = "a test pass",
        };
    }

    internal static EncodeOptions Options(FourBitFormat format, int blockSize, bool zeroPoints, int accuracyLevel) => new()
    {
        Profile = DeviceProfiles.CpuX64Vnni,
        WeightBits = 4,
        BlockSize = blockSize,
        FourBitFormat = format,
        FourBitZeroPoints = zeroPoints,
        AccuracyLevel = accuracyLevel,
    };

    private static OnnxModel Model(out float[] w)
    {
        w = TestGraphs.Normal(7, K * N, 0.2f);
        return Model(w);
    }

    private static OnnxModel Model(float[] w)
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("a", ElementType.Float, "batch", 3, K));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, "batch", 3, N));
        g.Initializers.Add(TensorValue.FromFloats("w", w, K, N));
        g.AddNode("MatMul", "mm", new[] { "a", "w" }, new[] { "y" });
        return model;
    }

    private static DenseTensor Input() => DenseTensor.FromFloats(TestGraphs.Normal(5, 2 * 3 * K, 1f), 2, 3, K);

    // The fp32 reference: the same MatMul on the weights decoded from the written file.
    private static OnnxModel WithWeight(OnnxModel model, float[] w) => Model(w);

    private static int Nibble(ReadOnlySpan<byte> packed, long index) => (packed[(int)(index / 2)] >> (int)(index % 2 * 4)) & 0xF;

    // MatMulNBits: W[k, n] = (B nibble k of column n − zero point) · scale, blocks of column n contiguous.
    private static float[] DecodeMatMulNBits(Graph g, int blockSize)
    {
        Node node = g.Single("MatMulNBits");
        int blocks = (K + blockSize - 1) / blockSize;
        TensorValue b = g.Initializer(node.Inputs[1]);
        Assert.Equal(ElementType.UInt8, b.ElementType);
        Assert.Equal(new long[] { N, blocks, blockSize / 2 }, b.Dims);
        float[] scales = g.Initializer(node.Inputs[2]).Floats();
        Assert.Equal(N * blocks, scales.Length);
        ReadOnlySpan<byte> zeroPoints = node.Inputs.Count > 3 ? g.Initializer(node.Inputs[3]).Data.Span : default;
        Assert.True(zeroPoints.IsEmpty || zeroPoints.Length == N * ((blocks + 1) / 2));
        var w = new float[K * N];
        for (int n = 0; n < N; n++)
        {
            for (int k = 0; k < K; k++)
            {
                int block = k / blockSize;
                int zero = zeroPoints.IsEmpty ? 8 : Nibble(zeroPoints, (long)n * ((blocks + 1) / 2) * 2 + block);
                w[k * N + n] = (Nibble(b.Data.Span, (long)n * blocks * blockSize + k) - zero) * scales[n * blocks + block];
            }
        }

        return w;
    }

    // DequantizeLinear, axis 0, block_size: W[k, n] = (code[k, n] − zero[k / block, n]) · scale[k / block, n].
    private static float[] DecodeBlockedDequantize(Graph g, Node dq)
    {
        TensorValue codes = g.Initializer(dq.Inputs[0]);
        float[] scales = g.Initializer(dq.Inputs[1]).Floats();
        ReadOnlySpan<byte> zeroPoints = g.Initializer(dq.Inputs[2]).Data.Span;
        int blockSize = (int)dq.FindAttribute("block_size")!.Int!.Value;
        bool signed = codes.ElementType == ElementType.Int4;
        int Value(ReadOnlySpan<byte> packed, long i) => signed && Nibble(packed, i) >= 8 ? Nibble(packed, i) - 16 : Nibble(packed, i);
        var w = new float[K * N];
        for (int k = 0; k < K; k++)
        {
            for (int n = 0; n < N; n++)
            {
                int s = k / blockSize * N + n;
                w[k * N + n] = (Value(codes.Data.Span, k * N + n) - Value(zeroPoints, s)) * scales[s];
            }
        }

        return w;
    }

    // Every weight lands on its block's grid within half a step (a step with zero points: the rounded zero point can push
    // the block's maximum one code past 15).
    private static void AssertRoundToNearest(float[] w, float[] decoded, int blockSize, bool zeroPoints)
    {
        for (int n = 0; n < N; n++)
        {
            for (int b = 0; b * blockSize < K; b++)
            {
                IEnumerable<int> rows = Enumerable.Range(b * blockSize, Math.Min(blockSize, K - b * blockSize));
                float lo = Math.Min(0, rows.Min(k => w[k * N + n])), hi = Math.Max(0, rows.Max(k => w[k * N + n]));
                float step = zeroPoints ? (hi - lo) / 15f : Math.Max(-lo, hi) / 7f;
                foreach (int k in rows)
                {
                    Assert.True(Math.Abs(w[k * N + n] - decoded[k * N + n]) <= step * (zeroPoints ? 1.0001f : 0.5001f),
                        $"w[{k},{n}] = {w[k * N + n]} decoded {decoded[k * N + n]}, step {step}");
                }
            }
        }
    }

    private static double MaxRelativeError(float[] reference, float[] actual)
    {
        double max = 0, scale = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            max = Math.Max(max, Math.Abs(reference[i] - actual[i]));
            scale = Math.Max(scale, Math.Abs(reference[i]));
        }

        return max / scale;
    }

    private static double Mse(float[] a, float[] b) => a.Zip(b, (x, y) => (double)(x - y) * (x - y)).Average();
}
