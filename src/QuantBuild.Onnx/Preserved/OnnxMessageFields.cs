using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Onnx.Preserved;

/// <summary>
/// Repeated messages QuantBuild does not interpret but never drops, kept as their serialized bytes: a model's
/// DeviceConfigurationProto list or a node's NodeDeviceConfigurationProto list (multi-device sharding).
/// </summary>
public sealed class OnnxMessageFields(IReadOnlyList<byte[]> messages) : PreservedFields
{
    /// <summary>The serialized messages, in file order.</summary>
    public IReadOnlyList<byte[]> Messages { get; } = messages;

    /// <summary>The messages preserved on an element, or none.</summary>
    public static IReadOnlyList<byte[]> Of(PreservedFields? fields) => (fields as OnnxMessageFields)?.Messages ?? Array.Empty<byte[]>();
}
