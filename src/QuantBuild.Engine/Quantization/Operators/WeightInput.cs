namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>Where a linear layer keeps its weight and bias.</summary>
/// <param name="Input">Position of the weight input.</param>
/// <param name="Axis">Axis of the weight that holds the output channels (per-channel scales run along it).</param>
/// <param name="Bias">Position of the optional bias input, or null when the op has none.</param>
internal sealed record WeightInput(int Input, int Axis, int? Bias);
