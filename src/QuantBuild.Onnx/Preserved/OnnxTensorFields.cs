using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Onnx.Preserved;

/// <summary>What ONNX's TensorProto says about a tensor's storage beyond its values: external data and segment.</summary>
public sealed class OnnxTensorFields(ExternalDataReference? externalData, TensorSegment? segment) : PreservedFields
{
    /// <summary>Where the bytes lived when they were outside the .onnx file; null when inline.</summary>
    public ExternalDataReference? ExternalData { get; } = externalData;

    /// <summary>The chunk of a larger tensor this one holds, if the file split it.</summary>
    public TensorSegment? Segment { get; } = segment;

    /// <summary>The external data reference <paramref name="tensor"/> was loaded from, or null.</summary>
    public static ExternalDataReference? ExternalDataOf(TensorValue tensor) => (tensor.Preserved as OnnxTensorFields)?.ExternalData;

    /// <summary>The segment <paramref name="tensor"/> holds, or null.</summary>
    public static TensorSegment? SegmentOf(TensorValue tensor) => (tensor.Preserved as OnnxTensorFields)?.Segment;

    /// <summary>Records where <paramref name="tensor"/>'s bytes came from, keeping its segment.</summary>
    public static void SetExternalData(TensorValue tensor, ExternalDataReference? reference)
    {
        TensorSegment? segment = SegmentOf(tensor);
        tensor.Preserved = reference is null && segment is null ? null : new OnnxTensorFields(reference, segment);
    }
}
