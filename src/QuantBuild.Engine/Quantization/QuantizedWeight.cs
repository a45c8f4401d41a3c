using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// A weight as DequantizeLinear takes it: packed integer codes, scales and zero points in DQ layout, and the
/// axis and block size attributes.
/// </summary>
/// <param name="Type">Storage type of the codes and zero points.</param>
/// <param name="Dims">The weight's shape.</param>
/// <param name="Codes">Packed little-endian codes (sub-byte types two to a byte, low nibble first).</param>
/// <param name="Scales">One scale, one per channel, or one per block.</param>
/// <param name="ScaleDims">Shape of the scale tensor: empty for per-tensor, [C] per channel, the weight's shape with the axis divided into blocks.</param>
/// <param name="ZeroPoints">Packed zero points with the scales' shape.</param>
/// <param name="Axis">The DQ axis, or null for per-tensor.</param>
/// <param name="BlockSize">The DQ block size, or null.</param>
internal sealed record QuantizedWeight(
    ElementType Type, long[] Dims, byte[] Codes, float[] Scales, long[] ScaleDims, byte[] ZeroPoints, int? Axis, int? BlockSize)
{
    /// <summary>True when there is one scale per slice of <paramref name="axis"/> (or one for all), so an int32 bias can use them.</summary>
    public bool ScalesFitBias(int axis) => BlockSize is null && (Axis is null || Axis == axis);
}
