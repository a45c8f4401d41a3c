using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Quantization;

/// <summary>The QB30xx failures of the QDQ encoder, one factory per code so messages stay uniform.</summary>
internal static class QuantizationErrors
{
    public static QuantBuildException AlreadyQuantized(string nodeName, string opType) => new(
        "QB3001",
        $"The model is already quantized: node '{nodeName}' is {opType}.",
        "Quantize the fp32 model the quantized one was made from; QuantBuild does not re-quantize QDQ or QOperator models.");

    public static QuantBuildException InvalidWeightOverride(string weight, string origin, string problem) => new(
        "QB3003",
        $"The weight encoding for '{weight}' from {origin} is invalid: {problem}.",
        "This is a bug in the pass that produced the encoding; report it to the pass's author, or remove the pass from the recipe.");

    public static QuantBuildException OverrideNotMatMulNBits(string weight, string origin, string problem) => new(
        "QB3008",
        $"The 4-bit weight encoding for '{weight}' from {origin} cannot be written as MatMulNBits (weights: format: matmulnbits): {problem}.",
        "Give the pass blocks along the input axis of a power of two of at least 16 (e.g. its group_size: 32) or per-channel scales, or set weights: format: qdq-blocked, which writes any blocked int4 encoding.");

    /// <summary>QB3009: a recipe pass's encoding of an LSTM/GRU/RNN weight that the layer's int8-per-gate-row storage cannot hold.</summary>
    public static QuantBuildException OverrideNotPerGateRow(string weight, string node, string opType, string origin, string problem, string? modelPath) => new(
        "QB3009",
        $"The weight encoding for '{weight}' of {opType} layer '{node}'{(modelPath is null ? string.Empty : $" in {Path.GetFileName(modelPath)}")} from {origin} cannot be stored: " +
        $"{opType} keeps W and R as int8 codes with one symmetric scale per gate row and direction, and {problem}.",
        $"Have the pass give that weight int8 codes with zero points 0 and one scale per gate row (axis 1) or per tensor, or leave it to the encoder's own int8 rounding; to keep the layer fp32, list '{node}' under exclude: nodes.",
        modelPath);

    public static QuantBuildException UnknownWeightOverride(string weight, string origin) => new(
        "QB3004",
        $"A weight encoding from {origin} names '{weight}', which is not a constant weight of the model.",
        "The pass must key encodings by initializer (or Constant output) name; report it to the pass's author.");

    public static QuantBuildException RangeNotFinite(string tensor, float min, float max) => new(
        "QB3005",
        $"The calibrated range of '{tensor}' is not finite ([{min}, {max}]).",
        "The fp32 model produces NaN or infinity on the calibration data; check the data's preprocessing, or exclude the node producing it.");

    public static QuantBuildException UnsupportedWeightBits(int bits, string profile) => new(
        "QB3006",
        $"The built-in encoder rounds weights to 8 or 4 bits, not {bits}" + (profile.Length > 0 ? $" (profile {profile})." : "."),
        "Set weight bits to 8 (per-channel int8) or 4 (blocked int4 MatMul weights), or add a pass that chooses the weight codes itself.");

    /// <summary>QB3011: a layer asked to quantize its input at run time cannot be written that way.</summary>
    public static QuantBuildException DynamicNotWritable(string node, string why) => new(
        "QB3011",
        $"Layer '{node}' cannot quantize its activations at run time (activations.dynamic): {why}.",
        "List only MatMul/Gemm layers with a constant weight under activations.dynamic (`quantbuild inspect` names them), or drop the recipe pass whose weight codes DynamicQuantizeMatMul cannot read.");

    /// <summary>QB3007: the encoder left every node in fp32, so the "quantized" model would be the input again.</summary>
    public static QuantBuildException NothingQuantized(string target, IReadOnlyList<UnquantizedNode> fp32)
    {
        string reasons = string.Join("; ", fp32
            .GroupBy(n => n.Reason.Split(':')[0])
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(3)
            .Select(g => $"{g.Count()}× {g.First().Reason}"));
        return new(
            "QB3007",
            $"Target '{target}' quantized nothing: all {fp32.Count} nodes stay fp32, so its model would be the input model again. Most common reasons: {reasons}.",
            "Run `quantbuild inspect` on the model to see why each layer stays fp32; remove the target if fp32 is what this device should ship, or use a recipe pass (e.g. nupes) that codes weights the encoder cannot.");
    }
}
