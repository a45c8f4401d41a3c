namespace QuantBuild.Abstractions.Passes;

/// <summary>The weight format the target asks for, which a pass's encodings should follow.</summary>
/// <param name="Bits">Bits per weight, 2 to 8.</param>
/// <param name="PerChannel">True for one scale per output channel (or per block); false for one scale per tensor.</param>
/// <param name="BlockSize">Weights per scale along the input axis for blocked formats, or null.</param>
public sealed record TargetWeightFormat(int Bits, bool PerChannel, int? BlockSize);
