using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Onnx.Preserved;

/// <summary>
/// Where a tensor's bytes lived when the model was loaded, if outside the .onnx file (ONNX external data).
/// Loading always brings the bytes into memory; this records the origin for inspection and for saving the
/// model back in the same layout.
/// </summary>
public sealed class ExternalDataReference
{
    /// <summary>Path of the side file, relative to the model's folder.</summary>
    public string Location { get; set; } = string.Empty;

    /// <summary>Byte offset of the tensor inside the side file, or null for 0.</summary>
    public long? Offset { get; set; }

    /// <summary>Byte length of the tensor's data, or null for "to the end of the file".</summary>
    public long? Length { get; set; }

    /// <summary>SHA-1 checksum the file declared, if any.</summary>
    public string? Checksum { get; set; }

    /// <summary>Any other key/value entries, preserved in order.</summary>
    public List<MetadataEntry> Other { get; } = new();
}
