namespace QuantBuild.Onnx;

/// <summary>How <see cref="OnnxModelSaver"/> lays a model out on disk.</summary>
public sealed record OnnxSaveOptions
{
    /// <summary>Protobuf cannot serialize a message of 2 GiB or more; leave room for the graph structure.</summary>
    internal const long DefaultProtobufSizeLimit = int.MaxValue - (64L << 20);

    /// <summary>Everything inline, unless the model is too large for that (then external data is used anyway).</summary>
    public static OnnxSaveOptions Default { get; } = new();

    /// <summary>
    /// Move tensors of at least <see cref="ExternalDataThreshold"/> bytes into one side file next to the model.
    /// Models too large for a single protobuf message use external data even when this is false.
    /// </summary>
    public bool UseExternalData { get; init; }

    /// <summary>The side file's name, in the model's folder. Default: the model's file name plus <c>.data</c>.</summary>
    public string? ExternalDataFileName { get; init; }

    /// <summary>Smallest tensor, in bytes, that moves to the side file. Default 1024, as ONNX's own tools use.</summary>
    public long ExternalDataThreshold { get; init; } = 1024;

    /// <summary>Each tensor's offset in the side file is a multiple of this (page size by default, so it can be memory-mapped).</summary>
    public int ExternalDataAlignment { get; init; } = 4096;

    /// <summary>The inline size above which external data is forced; lowered by tests to exercise that path.</summary>
    internal long ProtobufSizeLimit { get; init; } = DefaultProtobufSizeLimit;
}
