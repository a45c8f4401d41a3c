using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Quantization;

/// <summary>How one activation tensor is quantized: per-tensor scale and zero point in an 8-bit type.</summary>
/// <param name="Scale">Real value of one integer step; positive.</param>
/// <param name="ZeroPoint">The integer that represents real 0.</param>
/// <param name="Type"><see cref="ElementType.UInt8"/> or <see cref="ElementType.Int8"/>.</param>
public sealed record ActivationEncoding(float Scale, int ZeroPoint, ElementType Type);
