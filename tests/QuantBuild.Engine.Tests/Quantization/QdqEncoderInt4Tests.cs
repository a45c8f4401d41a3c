using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Quantization;

/// <summary>4-bit weights in the qdq-blocked format: int4 codes in blocks along K behind an opset-21 DequantizeLinear, which ORT fuses to MatMulNBits.</summary>
public sealed class QdqEncoderInt4Tests(ITestOutputHelper output)
{
    private static readonly EncodeOptions FourBit = new() { Profile = DeviceProfiles.CpuX64Vnni, WeightBits = 4, BlockSize = 32, FourBitFormat = FourBitFormat.BlockedDequantize };

    [Fact]
    public void MatMul_weights_become_int4_blocks_of_32_along_K_with_scale_max_abs_over_7()
    {
        OnnxModel model = MatMulModel(out float[] w);

        EncodeResult result = QdqEncoder.Encode(model, new Dictionary<string, TensorRange>(), FourBit);

        Graph g = result.Model.Graph;
        Node dq = g.DequantizeFeeding(g.Single("MatMul"), 1);
        Assert.Equal(0, dq.FindAttribute("axis")!.Int);
        Assert.Equal(32, dq.FindAttribute("block_size")!.Int);
        TensorValue codes = g.Initializer(dq.Inputs[0]);
        Assert.Equal(ElementType.Int4, codes.ElementType);
        Assert.Equal(64 * 32 / 2, codes.Data.Length);
        TensorValue scales = g.Initializer(dq.Inputs[1]);
        Assert.Equal(new long[] { 2, 32 }, scales.Dims);
        float[] s = scales.Floats();
        for (int block = 0; block < 2; block++)
        {
            for (int n = 0; n < 32; n++)
            {
                float maxAbs = Enumerable.Range(block * 32, 32).Max(k => MathF.Abs(w[k * 32 + n]));
                Assert.Equal(maxAbs / 7f, s[block * 32 + n]);
                for (int k = block * 32; k < block * 32 + 32; k++)
                {
                    int nibble = (codes.Data.Span[(k * 32 + n) / 2] >> ((k * 32 + n) % 2 * 4)) & 0xF;
                    int code = nibble >= 8 ? nibble - 16 : nibble;
                    Assert.Equal(Math.Clamp(MathF.Round(w[k * 32 + n] / s[block * 32 + n], MidpointRounding.ToEven), -8, 7), code);
                }
            }
        }

        Assert.Equal("a", g.Single("MatMul").Inputs[0]);
        Assert.Equal(21, result.Model.OpsetVersion());
        Assert.True(result.Model.IrVersion >= 10);
        Assert.Empty(QdqEncoder.Plan(model, FourBit));
    }

    [Fact]
    public void Four_bit_MatMul_runs_in_ORT_close_to_fp32_and_fuses_into_MatMulNBits()
    {
        OnnxModel model = MatMulModel(out _);
        DenseTensor a = DenseTensor.FromFloats(TestGraphs.Normal(5, 16 * 64, 1f), 16, 64);

        EncodeResult result = QdqEncoder.Encode(model, new Dictionary<string, TensorRange>(), FourBit);

        double cosine = OrtHarness.Cosine(OrtHarness.Run(model, "a", a, "y"), OrtHarness.Run(result.Model, "a", a, "y"));
        var counts = OrtHarness.OpCounts(OrtHarness.Optimized(result.Model));
        output.WriteLine($"cosine {cosine:F5}; optimized: {OrtHarness.Describe(counts)}");
        Assert.True(cosine > 0.98, $"cosine {cosine}");
        Assert.Equal(1, counts.GetValueOrDefault("MatMulNBits"));
        Assert.False(counts.ContainsKey("DequantizeLinear"), OrtHarness.Describe(counts));
    }

    private static OnnxModel MatMulModel(out float[] w)
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("a", ElementType.Float, "batch", 64));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, "batch", 32));
        w = g.AddWeight("w", 3, 0.2f, 64, 32);
        g.AddNode("MatMul", "mm", new[] { "a", "w" }, new[] { "m" });
        g.AddNode("Relu", "relu", new[] { "m" }, new[] { "y" });
        return model;
    }
}
