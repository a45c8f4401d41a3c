namespace QuantBuild.Onnx.Preserved;

/// <summary>The slice of a larger tensor this tensor holds, for chunked serialisation (ONNX TensorProto.Segment).</summary>
/// <param name="Begin">Index of the first element.</param>
/// <param name="End">Index one past the last element.</param>
public sealed record TensorSegment(long? Begin, long? End);
