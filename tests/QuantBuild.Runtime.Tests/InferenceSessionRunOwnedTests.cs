using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Runtime.Tests.Support;

namespace QuantBuild.Runtime.Tests;

/// <summary>
/// <see cref="InferenceSession.RunOwned"/>: outputs left in ONNX Runtime's memory and read in place, which must be what
/// <see cref="InferenceSession.Run"/> copies out, batch after batch and whatever the batch's shape.
/// </summary>
public sealed class InferenceSessionRunOwnedTests
{
    private static byte[] Model() => new ModelBuilder()
        .Input("x", ElementType.Float, "batch", 6)
        .Output("y", ElementType.Float, "batch", 4)
        .Initializer("w", ElementType.Float, Reference.Values(24, seed: 61), 6, 4)
        .Initializer("bias", ElementType.Float, Reference.Values(4, seed: 62), 4)
        .Node("Gemm", ["x", "w", "bias"], ["g"])
        .Node("Relu", ["g"], ["y"])
        .ToBytes();

    [Theory]
    [InlineData(3, 3, 1)]
    [InlineData(5, 2, 7)]
    public void Outputs_read_in_place_equal_the_copies_of_a_plain_run(int first, int second, int third)
    {
        using var session = new InferenceSession(Model());
        int seed = 70;
        foreach (int rows in new[] { first, second, third })
        {
            var inputs = new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats(Reference.Values(rows * 6, seed: seed++), rows, 6) };
            DenseTensor expected = session.Run(inputs, ["y"])["y"];

            using RunOutputs owned = session.RunOwned(inputs, ["y"]);

            Assert.Single(owned.Tensors);
            Assert.Equal(new long[] { rows, 4 }, owned.Tensors[0].ShapeArray());
            Assert.Equal(expected.Data.ToArray(), owned.Tensors[0].Data.ToArray());
            Assert.Contains(owned.Tensors[0].AsSpan<float>().ToArray(), v => v > 0);
        }
    }

    [Fact]
    public void An_unknown_output_name_is_refused_by_onnx_runtime()
    {
        using var session = new InferenceSession(Model());
        var inputs = new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats(Reference.Values(12, seed: 80), 2, 6) };

        Assert.Throws<OnnxRuntimeException>(() => session.RunOwned(inputs, ["nope"]));
    }
}
