namespace QuantBuild.Engine.Inspection;

/// <summary>One side file holding tensor data outside the .onnx file.</summary>
/// <param name="Location">The side file's path relative to the model.</param>
/// <param name="Tensors">How many tensors live in it.</param>
/// <param name="Bytes">How many bytes of tensor data it holds.</param>
public sealed record ExternalDataSummary(string Location, int Tensors, long Bytes);
