using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>
/// ConvTranspose: a layer with a weight [C, M/group, k...], but ONNX Runtime's CPU provider has no integer kernel for
/// it, so int8 weights would run as float behind a DequantizeLinear — slower than fp32. It stays fp32, and inspect
/// and the kernel check still know it as a layer.
/// </summary>
internal sealed class ConvTransposeQuantizer : OpQuantizer
{
    public override IReadOnlyList<string> OpTypes { get; } = new[] { "ConvTranspose" };

    public override string Becomes => "stays fp32: ONNX Runtime's CPU provider has no integer ConvTranspose kernel";

    public override bool HasWeightInput => true;

    public override OpRole RoleOf(Node node, GraphIndex index) => OpRole.None;

    public override WeightInput? Weight(Node node, GraphIndex index) => new(1, 1, 2);

    public override string? Refusal(Node node, GraphIndex index) =>
        "ConvTranspose: ONNX Runtime's CPU provider has no integer ConvTranspose kernel: int8 weights would run as float behind a DequantizeLinear, slower than fp32";
}
