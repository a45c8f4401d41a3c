using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>
/// GRU and RNN: ONNX Runtime has no integer kernel for either (nothing like DynamicQuantizeLSTM), so the op stays
/// and only its input and recurrent weights are stored int8, one symmetric scale per gate row and direction, behind
/// a Cast and a Mul that ONNX Runtime folds into an fp32 weight when it loads the model. The file's weights are 4×
/// smaller at fp32 speed; a DequantizeLinear in front instead would run on every call (1.02-1.27× the fp32 latency),
/// and hoisting X·Wᵀ into a DynamicQuantizeMatMul 1.06-1.52× (docs/benchmarks.md, "GRU and RNN"). Activations stay
/// float, so it needs no calibrated range and applies under <c>activations: static</c> and <c>dynamic</c> alike.
/// </summary>
internal sealed class GruQuantizer : OpQuantizer
{
    public override IReadOnlyList<string> OpTypes { get; } = new[] { "GRU", "RNN" };

    public override string Becomes =>
        "itself, with int8 W and R per gate row stored in the file and expanded to fp32 when ONNX Runtime loads it (no integer GRU/RNN kernel): 4× smaller weights, fp32 speed";

    public override bool HasWeightInput => true;

    public override OpRole RoleOf(Node node, GraphIndex index) => OpRole.WeightOnly;

    // A layer for the fallback and the analyzer: kept alone, the GRU goes back to its fp32 weights.
    public override WeightInput? Weight(Node node, GraphIndex index) => RecurrentWeights.W;

    public override string? Refusal(Node node, GraphIndex index) =>
        RecurrentWeights.Refusal(node, index, gates: node.OpType == "GRU" ? 3 : 1);
}
