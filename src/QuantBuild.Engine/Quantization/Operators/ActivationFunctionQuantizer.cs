using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>
/// Relu and Clip: after a quantized layer the layer's output takes their (narrower) encoding, so the QuantizeLinear
/// clips exactly as they do and ONNX Runtime removes them.
/// </summary>
internal sealed class ActivationFunctionQuantizer : OpQuantizer
{
    public override IReadOnlyList<string> OpTypes { get; } = new[] { "Relu", "Clip" };

    public override string Becomes => "folded into the producer's output QuantizeLinear";

    public override bool FoldsIntoProducer => true;

    public override OpRole RoleOf(Node node, GraphIndex index) => OpRole.Requantizing;
}
