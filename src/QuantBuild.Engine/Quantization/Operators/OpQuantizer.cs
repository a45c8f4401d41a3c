using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>
/// Everything QuantBuild knows about quantizing one family of ops: whether it can, and why not; which inputs are
/// activations and which is the weight (with its output-channel axis); what ONNX Runtime turns the QDQ form into.
/// The writer primitives in <see cref="QdqGraphWriter"/> emit the QDQ from these answers. Adding an op is one
/// subclass, one line in <see cref="OpQuantizerRegistry.CreateBuiltIn"/> and one test file.
/// </summary>
internal abstract class OpQuantizer
{
    protected static readonly IReadOnlyList<int> FirstInput = new[] { 0 };

    /// <summary>The default-domain op types this family answers for.</summary>
    public abstract IReadOnlyList<string> OpTypes { get; }

    /// <summary>What the QDQ form becomes in ONNX Runtime's CPU provider, or why it stays float (docs, inspect).</summary>
    public abstract string Becomes { get; }

    /// <summary>How the encoder treats <paramref name="node"/> (it may depend on whether a weight is constant).</summary>
    public abstract OpRole RoleOf(Node node, GraphIndex index);

    /// <summary>Positions of the inputs quantized as activations (weights and bias of linear ops excluded).</summary>
    public virtual IReadOnlyList<int> ActivationInputs(Node node, GraphIndex index) => FirstInput;

    /// <summary>The constant weight of a linear layer, or null when the op has none.</summary>
    public virtual WeightInput? Weight(Node node, GraphIndex index) => null;

    /// <summary>True for a family whose ops can carry a constant weight (a layer, in the report's sense).</summary>
    public virtual bool HasWeightInput => false;

    /// <summary>Outputs that carry data (MaxPool's optional second output holds int64 indices).</summary>
    public virtual int DataOutputCount(Node node) => node.Outputs.Count;

    /// <summary>
    /// A structural reason this node cannot take the integer form (an attribute the kernel lacks, a weight of the
    /// wrong rank), or null. For a family that always stays float this is the reason.
    /// </summary>
    public virtual string? Refusal(Node node, GraphIndex index) => null;

    /// <summary>
    /// Why this node cannot become a layer whose input ONNX Runtime quantizes at run time (<c>activations: dynamic</c>,
    /// DynamicQuantizeMatMul), or null when it can. Families without such a kernel keep the default.
    /// </summary>
    public virtual string? DynamicRefusal(Node node, GraphIndex index) =>
        $"{node.OpType} has no ONNX Runtime kernel that quantizes its input at run time";

    /// <summary>True when ORT fuses the op without a QuantizeLinear behind it (QGemm, MatMulIntegerToFloat with float output).</summary>
    public virtual bool FusesWithoutOutputQuantize => false;

    /// <summary>
    /// True for Relu/Clip after a quantized layer: the producer's output takes this op's narrower encoding, so ORT drops
    /// the op (Q already clips at the zero point).
    /// </summary>
    public virtual bool FoldsIntoProducer => false;
}
