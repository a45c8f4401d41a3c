using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Runtime.Tests.Support;

namespace QuantBuild.Runtime.Tests;

/// <summary>
/// <see cref="InferenceSession.RunInto"/>: ONNX Runtime writing outputs into buffers the caller owns and reuses, which
/// must give exactly what <see cref="InferenceSession.Run"/> returns.
/// </summary>
public sealed class InferenceSessionRunIntoTests
{
    private static byte[] Model(float[] w, float[] bias) => new ModelBuilder()
        .Input("x", ElementType.Float, "batch", 6)
        .Output("y", ElementType.Float, "batch", 4)
        .Initializer("w", ElementType.Float, w, 6, 4)
        .Initializer("bias", ElementType.Float, bias, 4)
        .Node("Gemm", ["x", "w", "bias"], ["g"])
        .Node("Relu", ["g"], ["y"])
        .ToBytes();

    [Fact]
    public void Outputs_written_into_reused_buffers_equal_plain_runs_batch_after_batch()
    {
        using var session = new InferenceSession(Model(Reference.Values(24, seed: 41), Reference.Values(4, seed: 42)));
        DenseTensor[] buffers = [DenseTensor.Zeros(ElementType.Float, 3, 4)];
        for (int batch = 0; batch < 3; batch++)
        {
            var inputs = new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats(Reference.Values(18, seed: 50 + batch), 3, 6) };
            DenseTensor expected = session.Run(inputs, ["y"])["y"];

            session.RunInto(inputs, ["y"], buffers);

            Assert.Equal(expected.ShapeArray(), buffers[0].ShapeArray());
            Assert.Equal(expected.Data.ToArray(), buffers[0].Data.ToArray());
            Assert.Contains(buffers[0].AsSpan<float>().ToArray(), v => v > 0);
        }
    }

    [Fact]
    public void A_buffer_of_the_wrong_shape_is_refused_by_onnx_runtime()
    {
        using var session = new InferenceSession(Model(Reference.Values(24, seed: 43), Reference.Values(4, seed: 44)));
        var inputs = new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats(Reference.Values(18, seed: 45), 3, 6) };

        Assert.Throws<OnnxRuntimeException>(() => session.RunInto(inputs, ["y"], [DenseTensor.Zeros(ElementType.Float, 2, 4)]));
    }

    [Fact]
    public void Name_and_buffer_counts_must_agree()
    {
        using var session = new InferenceSession(Model(Reference.Values(24, seed: 46), Reference.Values(4, seed: 47)));
        var inputs = new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats(Reference.Values(18, seed: 48), 3, 6) };

        Assert.Throws<ArgumentException>(() => session.RunInto(inputs, ["y"], []));
    }
}
