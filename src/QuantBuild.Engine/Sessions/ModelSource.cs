using QuantBuild.Abstractions.Ir;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Sessions;

/// <summary>
/// Where a session's model comes from: a file on disk (the exact bytes shipped, external data beside it), an IR
/// model in memory (its file-backed weights referenced, not copied: <see cref="ModelSessions"/>), or serialized bytes
/// (small models, tests). Stages that score or time a model take one of these instead of serialized bytes, so no
/// stage needs the whole model as one protobuf.
/// </summary>
public sealed class ModelSource
{
    private readonly string? _path;
    private readonly OnnxModel? _model;
    private readonly byte[]? _bytes;

    private ModelSource(string? path, OnnxModel? model, byte[]? bytes)
    {
        _path = path;
        _model = model;
        _bytes = bytes;
    }

    /// <summary>The model file at <paramref name="path"/>.</summary>
    public static ModelSource File(string path) => new(Path.GetFullPath(path), null, null);

    /// <summary>An IR model; sessions reference its file-backed weights.</summary>
    public static ModelSource Model(OnnxModel model) => new(null, model ?? throw new ArgumentNullException(nameof(model)), null);

    /// <summary>A serialized model with every tensor inline.</summary>
    public static ModelSource Bytes(byte[] bytes) => new(null, null, bytes ?? throw new ArgumentNullException(nameof(bytes)));

    /// <summary>The file, when this source is one.</summary>
    public string? FilePath => _path;

    /// <summary>Opens a session on the model.</summary>
    public InferenceSession Open(SessionOptions? options = null) =>
        _path is not null ? new InferenceSession(_path, options)
        : _model is not null ? ModelSessions.Open(_model, options)
        : new InferenceSession(_bytes!, options);

    /// <inheritdoc />
    public override string ToString() => _path ?? (_model is not null ? "<in-memory model>" : $"<{_bytes!.Length} bytes>");
}
