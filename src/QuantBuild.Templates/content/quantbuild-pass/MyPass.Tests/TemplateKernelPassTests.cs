using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Testing;

namespace MyPass.Tests;

public sealed class TemplateKernelPassTests
{
    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    public void Every_weight_gets_per_channel_int8_codes_within_half_a_step(double clipRatio)
    {
        (OnnxModel model, float[] weight) = MatMulModel();
        using var context = PassTestContext.FromTensors(model, new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats(Values(32 * 4, 7), 32, 4) });

        new TemplateKernelPass().Run(context, new TemplateKernelOptions { ClipRatio = clipRatio });

        WeightEncoding e = Assert.Single(context.Encodings).Value;
        Assert.Equal(1, e.Axis); // MatMul [in, out]: one scale per output column
        Assert.Equal(3, e.Scales.Length);
        Assert.All(e.Codes!, c => Assert.InRange(c, -127, 127));
        for (int i = 0; i < weight.Length; i++)
        {
            float s = e.Scales[i % 3];
            float clipped = (float)Math.Clamp(weight[i], -127 * s, 127 * s);
            Assert.True(Math.Abs(e.Codes![i] * s - clipped) <= s / 2 + 1e-6f, $"weight {i}: {weight[i]} coded {e.Codes[i]} × {s}");
        }

        Assert.Contains(context.Lines, l => l.StartsWith("info: coded 1 weights", StringComparison.Ordinal));
    }

    [Fact]
    public void A_four_bit_target_is_left_to_the_host_with_a_warning()
    {
        (OnnxModel model, _) = MatMulModel();
        using var context = PassTestContext.FromTensors(model, new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats(Values(8 * 4, 3), 8, 4) },
            new PassTestOptions { Weights = new TargetWeightFormat(4, true, 32) });

        new TemplateKernelPass().Run(context, new TemplateKernelOptions());

        Assert.Empty(context.Encodings);
        Assert.Contains(context.Lines, l => l.StartsWith("warning:", StringComparison.Ordinal));
    }

    /// <summary>y = x · W with x [batch, 4] and a constant W [4, 3].</summary>
    private static (OnnxModel Model, float[] Weight) MatMulModel()
    {
        float[] w = Values(4 * 3, 11);
        var model = new OnnxModel { IrVersion = 8, ProducerName = "my-pass-tests" };
        model.OpsetImports.Add(new OpsetImport(string.Empty, 17));
        model.Graph.Name = "matmul";
        model.Graph.Inputs.Add(Value("x", Dimension.Symbolic("batch"), Dimension.Fixed(4)));
        model.Graph.Outputs.Add(Value("y", Dimension.Symbolic("batch"), Dimension.Fixed(3)));
        model.Graph.Initializers.Add(TensorValue.FromFloats("W", w, 4, 3));
        var node = new Node { OpType = "MatMul", Name = "mm" };
        node.Inputs.AddRange(["x", "W"]);
        node.Outputs.Add("y");
        model.Graph.Nodes.Add(node);
        return (model, w);
    }

    private static ValueInfo Value(string name, params Dimension[] dims)
    {
        var shape = new TensorShape();
        shape.Dims.AddRange(dims);
        return new ValueInfo { Name = name, Type = new TensorTypeInfo { ElementType = ElementType.Float, Shape = shape } };
    }

    private static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }
}
