namespace QuantBuild.Abstractions.Ir;

/// <summary>A free-form key/value pair attached to a model, graph, node, tensor or value (ONNX StringStringEntryProto).</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value.</param>
public sealed record MetadataEntry(string Key, string Value);
