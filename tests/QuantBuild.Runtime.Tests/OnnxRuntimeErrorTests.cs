using QuantBuild.Abstractions.Tensors;
using QuantBuild.Runtime.Tests.Support;

namespace QuantBuild.Runtime.Tests;

public sealed class OnnxRuntimeErrorTests
{
    [Fact]
    public void A_node_input_nothing_produces_fails_session_creation_with_ORTs_message()
    {
        byte[] model = new ModelBuilder()
            .Input("x", ElementType.Float, 2)
            .Output("y", ElementType.Float, 2)
            .Node("Add", ["x", "nowhere"], ["y"])
            .ToBytes();

        var error = Assert.Throws<OnnxRuntimeException>(() => new InferenceSession(model));

        Assert.Equal("QB6010", error.Code);
        // ORT 1.30 reports a dangling input as InvalidArgument from its graph resolver.
        Assert.Equal(OrtErrorCode.InvalidArgument, error.ErrorCode);
        Assert.Contains("nowhere", error.OrtMessage);
        Assert.Contains(error.OrtMessage, error.Message);
        Assert.Contains("creating a session", error.Message);
        Assert.False(string.IsNullOrEmpty(error.Fix));
    }

    [Fact]
    public void An_unknown_op_fails_session_creation_with_ORTs_message_naming_it()
    {
        byte[] model = new ModelBuilder()
            .Input("x", ElementType.Float, 2)
            .Output("y", ElementType.Float, 2)
            .Node("FrobnicateQB", ["x"], ["y"])
            .ToBytes();

        var error = Assert.Throws<OnnxRuntimeException>(() => new InferenceSession(model));

        Assert.Contains("FrobnicateQB", error.OrtMessage);
        Assert.Contains(error.ErrorCode, new[] { OrtErrorCode.InvalidGraph, OrtErrorCode.NotImplemented, OrtErrorCode.Fail });
    }

    [Fact]
    public void Bytes_that_are_not_a_model_fail_with_InvalidProtobuf()
    {
        var error = Assert.Throws<OnnxRuntimeException>(() => new InferenceSession("not a model"u8.ToArray()));

        Assert.Equal(OrtErrorCode.InvalidProtobuf, error.ErrorCode);
    }

    [Fact]
    public void A_missing_model_file_fails_with_NoSuchFile_naming_it()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"qb-missing-{Guid.NewGuid():N}.onnx");

        var error = Assert.Throws<OnnxRuntimeException>(() => new InferenceSession(missing));

        Assert.Equal(OrtErrorCode.NoSuchFile, error.ErrorCode);
        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public void A_wrong_input_name_or_type_fails_the_run_with_InvalidArgument_and_the_session_stays_usable()
    {
        byte[] model = new ModelBuilder()
            .Input("x", ElementType.Float, 2)
            .Output("y", ElementType.Float, 2)
            .Node("Relu", ["x"], ["y"])
            .ToBytes();
        using var session = new InferenceSession(model);

        var badName = Assert.Throws<OnnxRuntimeException>(() =>
            session.Run(new Dictionary<string, DenseTensor> { ["z"] = DenseTensor.FromFloats([1f, 2f], 2) }));
        var badType = Assert.Throws<OnnxRuntimeException>(() =>
            session.Run(new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.Create<int>(ElementType.Int32, [1, 2], [2]) }));

        Assert.Equal(OrtErrorCode.InvalidArgument, badName.ErrorCode);
        Assert.Contains("z", badName.OrtMessage);
        Assert.Equal(OrtErrorCode.InvalidArgument, badType.ErrorCode);
        Assert.Equal([0f, 2f], session.Run(new Dictionary<string, DenseTensor> { ["x"] = DenseTensor.FromFloats([-1f, 2f], 2) })["y"].AsSpan<float>().ToArray());
    }
}
