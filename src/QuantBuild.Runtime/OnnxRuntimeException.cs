using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Runtime;

/// <summary>
/// ONNX Runtime reported an error (a non-null <c>OrtStatus</c>). Carries ORT's error code and its message
/// verbatim, because that message (the node, the op, the shape) is what the user needs to fix the model.
/// </summary>
public sealed class OnnxRuntimeException : QuantBuildException
{
    /// <summary>The diagnostic code of every ONNX Runtime error.</summary>
    public const string DiagnosticCode = "QB6010";

    /// <summary>Creates the exception.</summary>
    /// <param name="errorCode">ORT's error code.</param>
    /// <param name="ortMessage">ORT's message, unchanged.</param>
    /// <param name="operation">What QuantBuild was doing, for example <c>creating a session from model.onnx</c>.</param>
    public OnnxRuntimeException(OrtErrorCode errorCode, string ortMessage, string operation)
        : base(DiagnosticCode, $"ONNX Runtime failed while {operation} ({errorCode}): {ortMessage}", FixFor(errorCode))
    {
        ErrorCode = errorCode;
        OrtMessage = ortMessage;
        Operation = operation;
    }

    /// <summary>ORT's error code.</summary>
    public OrtErrorCode ErrorCode { get; }

    /// <summary>ORT's message, unchanged.</summary>
    public string OrtMessage { get; }

    /// <summary>What QuantBuild was doing when ORT failed.</summary>
    public string Operation { get; }

    private static string FixFor(OrtErrorCode code) => code switch
    {
        OrtErrorCode.NoSuchFile => "Check that the model path exists and is readable.",
        OrtErrorCode.InvalidProtobuf => "The file is not a valid ONNX model; re-export it or check that it was not truncated.",
        OrtErrorCode.InvalidGraph or OrtErrorCode.NotImplemented =>
            "Fix the node ONNX Runtime names above (missing input, unknown op or unsupported opset), or target an opset ONNX Runtime 1.30 supports.",
        OrtErrorCode.InvalidArgument => "Check the input names, element types and shapes against the session's InputMetadata.",
        _ => "Read ONNX Runtime's message above; it names the node or setting at fault.",
    };
}
