using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization.Operators;

/// <summary>
/// The op families a run can quantize, looked up by op type. Built per run (<see cref="CreateBuiltIn"/>, then
/// <see cref="Register"/> for more); never global mutable state. Every op list in the engine — what the encoder
/// quantizes, what inspect calls quantizable, the device profiles' integer ops, the kernel check's float layers,
/// the already-quantized detection — is a query of one registry.
/// </summary>
internal sealed class OpQuantizerRegistry
{
    private readonly Dictionary<string, OpQuantizer> _byOp = new(StringComparer.Ordinal);
    private readonly List<OpQuantizer> _families = new();

    /// <summary>Ops that only exist in a model that is already quantized.</summary>
    public static readonly IReadOnlySet<string> QuantizedOpTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul", "MatMulInteger",
        "ConvInteger", "QGemm", "MatMulNBits", "MatMulIntegerToFloat", "DynamicQuantizeMatMul", "QLinearAdd", "QLinearMul",
        "DynamicQuantizeLSTM", "QLinearConcat", "QLinearSoftmax", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearAveragePool",
        "QLinearGlobalAveragePool", "QLinearWhere",
    };

    /// <summary>The families in registration order.</summary>
    public IReadOnlyList<OpQuantizer> Families => _families;

    /// <summary>A registry with every built-in family: one line per family.</summary>
    public static OpQuantizerRegistry CreateBuiltIn()
    {
        var registry = new OpQuantizerRegistry();
        registry.Register(new ConvQuantizer());
        registry.Register(new GemmQuantizer());
        registry.Register(new MatMulQuantizer());
        registry.Register(new BinaryQuantizer());
        registry.Register(new UnaryQuantizer());
        registry.Register(new ActivationFunctionQuantizer());
        registry.Register(new ConcatQuantizer());
        registry.Register(new WhereQuantizer());
        registry.Register(new PadQuantizer());
        registry.Register(new DataMovementQuantizer());
        registry.Register(new ConvTransposeQuantizer());
        registry.Register(new LstmQuantizer());
        registry.Register(new GruQuantizer());
        foreach (KeptInFloatQuantizer family in KeptInFloatFamilies.All())
        {
            registry.Register(family);
        }

        return registry;
    }

    /// <summary>Adds a family; an op type already answered for is refused so two families never disagree.</summary>
    public void Register(OpQuantizer family)
    {
        foreach (string op in family.OpTypes)
        {
            if (_byOp.ContainsKey(op))
            {
                throw new InvalidOperationException($"op type {op} is already registered by {_byOp[op].GetType().Name}");
            }
        }

        foreach (string op in family.OpTypes)
        {
            _byOp[op] = family;
        }

        _families.Add(family);
    }

    /// <summary>The family for <paramref name="node"/> (default ONNX domain only), or null when none knows it.</summary>
    public OpQuantizer? Find(Node node) =>
        node.IsDefaultDomain && _byOp.TryGetValue(node.OpType, out OpQuantizer? family) ? family : null;

    /// <summary>Op types some family can put in integer form (a device profile narrows this further).</summary>
    public IReadOnlySet<string> IntegerOpTypes() =>
        _families.Where(f => f is not (KeptInFloatQuantizer or ConvTransposeQuantizer)).SelectMany(f => f.OpTypes).ToHashSet(StringComparer.Ordinal);

    /// <summary>Op types that can be a layer with a weight (Conv, Gemm, MatMul...).</summary>
    public IReadOnlySet<string> LayerOpTypes() =>
        _families.Where(f => f.HasWeightInput).SelectMany(f => f.OpTypes).ToHashSet(StringComparer.Ordinal);

    /// <summary>True for ops only a quantized model has (QDQ pairs, QLinear kernels, MatMulNBits...).</summary>
    public static bool IsQuantizedOp(Node node) => QuantizedOpTypes.Contains(node.OpType);

    /// <summary>The reason an op no family knows stays fp32.</summary>
    public static string UnknownReason(Node node) =>
        $"{node.OpType} has no quantizer: ONNX Runtime has no integer kernel for it, so it runs in fp32";
}
