using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Abstractions.Data;

/// <summary>What the host asks a plugin data reader to open.</summary>
public sealed record DataReaderRequest
{
    /// <summary>The absolute file or folder the yaml's <c>path</c> names (checked to exist before the reader is called).</summary>
    public required string Path { get; init; }

    /// <summary>The folder of quantize.yaml: other relative paths in the reader's options resolve from here.</summary>
    public required string ConfigDirectory { get; init; }

    /// <summary>
    /// The model inputs the source must provide, by name, with their declared element types and shapes (a reader
    /// that resizes images reads the height and width here). Inputs the yaml fixes under <c>inputs</c> are not listed.
    /// </summary>
    public required IReadOnlyList<ValueInfo> Inputs { get; init; }
}
