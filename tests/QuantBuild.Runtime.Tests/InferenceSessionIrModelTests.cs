using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Runtime.Tests.Support;

namespace QuantBuild.Runtime.Tests;

/// <summary>Models built with the project's IR and saver, run by ONNX Runtime, checked against plain C#.</summary>
public sealed class InferenceSessionIrModelTests
{
    [Fact]
    public void Gemm_then_Relu_built_from_the_IR_matches_the_reference()
    {
        float[] w = Reference.Values(6 * 4, seed: 11);
        float[] bias = Reference.Values(4, seed: 12);
        byte[] model = new ModelBuilder()
            .Input("x", ElementType.Float, "batch", 6)
            .Output("y", ElementType.Float, "batch", 4)
            .Initializer("w", ElementType.Float, w, 6, 4)
            .Initializer("bias", ElementType.Float, bias, 4)
            .Node("Gemm", ["x", "w", "bias"], ["g"], NodeAttribute.FromFloat("alpha", 0.5f))
            .Node("Relu", ["g"], ["y"])
            .ToBytes();
        float[] x = Reference.Values(3 * 6, seed: 13);

        using var session = new InferenceSession(model);
        var outputs = session.Run(new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats(x, 3, 6) });

        float[] expected = Reference.Relu(Reference.Gemm(x, w, bias, 3, 6, 4, alpha: 0.5f));
        Assert.Equal(new long[] { 3, 4 }, outputs["y"].ShapeArray());
        Reference.AssertClose(expected, outputs["y"].AsSpan<float>(), 1e-5f);
    }

    [Theory]
    [InlineData(LogSeverity.Verbose)]
    [InlineData(LogSeverity.Error)]
    [InlineData(LogSeverity.Fatal)]
    public void A_session_log_severity_is_accepted_and_changes_nothing_computed(LogSeverity severity)
    {
        float[] w = Reference.Values(6 * 4, seed: 31);
        byte[] model = new ModelBuilder()
            .Input("x", ElementType.Float, "batch", 6)
            .Output("y", ElementType.Float, "batch", 4)
            .Initializer("w", ElementType.Float, w, 6, 4)
            .Node("MatMul", ["x", "w"], ["y"])
            .ToBytes();
        float[] x = Reference.Values(2 * 6, seed: 32);

        using var session = new InferenceSession(model, new SessionOptions { LogSeverityLevel = severity });
        var outputs = session.Run(new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats(x, 2, 6) });

        Reference.AssertClose(Reference.Gemm(x, w, new float[4], 2, 6, 4), outputs["y"].AsSpan<float>(), 1e-5f);
    }

    [Fact]
    public void Conv_built_from_the_IR_and_saved_to_a_file_matches_the_reference()
    {
        float[] w = Reference.Values(4 * 3 * 3 * 3, seed: 21);
        float[] bias = Reference.Values(4, seed: 22);
        string dir = Directory.CreateTempSubdirectory("qb-conv-").FullName;
        try
        {
            string path = new ModelBuilder()
                .Input("x", ElementType.Float, 2, 3, 9, 7)
                .Output("y", ElementType.Float, 2, 4, 5, 4)
                .Initializer("w", ElementType.Float, w, 4, 3, 3, 3)
                .Initializer("b", ElementType.Float, bias, 4)
                .Node("Conv", ["x", "w", "b"], ["y"], NodeAttribute.FromInts("strides", 2, 2), NodeAttribute.FromInts("pads", 1, 1, 1, 1))
                .SaveTo(Path.Combine(dir, "conv.onnx"));
            float[] x = Reference.Values(2 * 3 * 9 * 7, seed: 23);

            using var session = new InferenceSession(path, new SessionOptions { IntraOpNumThreads = 1 });
            var outputs = session.Run(new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats(x, 2, 3, 9, 7) });

            float[] expected = Reference.Conv2d(x, 2, 3, 9, 7, w, 4, 3, 3, bias, stride: 2, pad: 1, out int oh, out int ow);
            Assert.Equal(new long[] { 2, 4, oh, ow }, outputs["y"].ShapeArray());
            Reference.AssertClose(expected, outputs["y"].AsSpan<float>(), 1e-5f);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(ElementType.Float)]
    [InlineData(ElementType.Float16)]
    [InlineData(ElementType.Int8)]
    [InlineData(ElementType.UInt8)]
    [InlineData(ElementType.Int32)]
    [InlineData(ElementType.Int64)]
    [InlineData(ElementType.Bool)]
    [InlineData(ElementType.Double)]
    public void Tensors_of_each_element_type_pass_through_Identity_bit_for_bit(ElementType type)
    {
        byte[] model = new ModelBuilder()
            .Input("x", type, 2, 3)
            .Output("y", type, 2, 3)
            .Node("Identity", ["x"], ["y"])
            .ToBytes();
        var bytes = new byte[ElementTypeInfo.ByteCount(type, 6)];
        new Random(31).NextBytes(bytes);
        if (type == ElementType.Bool)
        {
            // ORT's bool is one byte holding 0 or 1.
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] &= 1;
            }
        }

        using var session = new InferenceSession(model);
        var outputs = session.Run(new Dictionary<string, DenseTensor> { ["x"] = new DenseTensor(type, [2, 3], bytes) });

        DenseTensor y = outputs["y"];
        Assert.Equal(type, y.ElementType);
        Assert.Equal(new long[] { 2, 3 }, y.ShapeArray());
        Assert.Equal(bytes, y.Data.ToArray());
    }

    [Fact]
    public void Run_returns_only_the_requested_outputs_in_the_requested_order()
    {
        byte[] model = new ModelBuilder()
            .Input("x", ElementType.Float, 4)
            .Output("relu", ElementType.Float, 4)
            .Output("neg", ElementType.Float, 4)
            .Output("abs", ElementType.Float, 4)
            .Node("Relu", ["x"], ["relu"])
            .Node("Neg", ["x"], ["neg"])
            .Node("Abs", ["x"], ["abs"])
            .ToBytes();
        using var session = new InferenceSession(model);

        var outputs = session.Run(
            new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats([-1f, 2f, -3f, 4f], 4) },
            ["abs", "neg"]);

        Assert.Equal(["abs", "neg"], outputs.Keys);
        Assert.Equal([1f, 2f, 3f, 4f], outputs["abs"].AsSpan<float>().ToArray());
        Assert.Equal([1f, -2f, 3f, -4f], outputs["neg"].AsSpan<float>().ToArray());
    }

    [Fact]
    public void An_empty_batch_runs_and_gives_an_empty_output()
    {
        byte[] model = new ModelBuilder()
            .Input("x", ElementType.Float, "batch", 3)
            .Output("y", ElementType.Float, "batch", 3)
            .Node("Relu", ["x"], ["y"])
            .ToBytes();
        using var session = new InferenceSession(model);

        var outputs = session.Run(new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.Zeros(ElementType.Float, 0, 3) });

        Assert.Equal(new long[] { 0, 3 }, outputs["y"].ShapeArray());
        Assert.Equal(0, outputs["y"].Data.Length);
    }

    [Fact]
    public void One_session_runs_from_many_threads_at_once_with_the_same_answers()
    {
        float[] w = Reference.Values(32 * 16, seed: 81);
        byte[] model = new ModelBuilder()
            .Input("x", ElementType.Float, 1, 32)
            .Output("y", ElementType.Float, 1, 16)
            .Initializer("w", ElementType.Float, w, 32, 16)
            .Node("MatMul", ["x", "w"], ["y"])
            .ToBytes();
        using var session = new InferenceSession(model);
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();

        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            float[] x = Reference.Values(32, seed: 1000 + i);
            var y = session.Run(new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats(x, 1, 32) })["y"];
            float[] expected = Reference.Gemm(x, w, null, 1, 32, 16);
            for (int j = 0; j < 16; j++)
            {
                if (Math.Abs(expected[j] - y.AsSpan<float>()[j]) > 1e-4f)
                {
                    failures.Add($"run {i} element {j}");
                }
            }
        });

        Assert.Empty(failures);
    }

    [Fact]
    public void Running_a_disposed_session_throws_ObjectDisposedException()
    {
        byte[] model = new ModelBuilder()
            .Input("x", ElementType.Float, 1)
            .Output("y", ElementType.Float, 1)
            .Node("Relu", ["x"], ["y"])
            .ToBytes();
        var session = new InferenceSession(model);
        session.Dispose();

        Assert.Throws<ObjectDisposedException>(() =>
            session.Run(new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats([1f], 1) }));
    }
}
