using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Quantization.Operators;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// Decides, node by node, what the encoder quantizes and why the rest stays fp32. With no ranges (planning) every
/// activation is assumed to have one, so the plan asks calibration for exactly what the encoder will use.
/// </summary>
internal sealed class NodeSelector
{
    private readonly GraphIndex _index;
    private readonly EncodeOptions _options;
    private readonly IReadOnlyDictionary<string, TensorRange>? _ranges;
    private readonly GraphOps _ops;

    /// <summary>Nodes of a LayerNorm written out as elementwise ops, by display name, with the tensor it normalises.</summary>
    private readonly Dictionary<string, string> _layerNormInput = new(StringComparer.Ordinal);

    /// <summary>
    /// Layer outputs without a range of their own that a Relu/Clip with a range folds into, with the layer's and the
    /// activation's positions: the encoder gives them the activation's encoding, so they need none as long as both
    /// end up integer (<see cref="Select"/> checks that and selects again without the ones that did not).
    /// </summary>
    private readonly Dictionary<string, (int Producer, int Reader)> _folded = new(StringComparer.Ordinal);

    /// <summary>Outputs of Constant nodes and of nodes computed from constants only, filled in graph order.</summary>
    private readonly HashSet<string> _constantOutputs = new(StringComparer.Ordinal);

    private NodeSelector(GraphIndex index, EncodeOptions options, IReadOnlyDictionary<string, TensorRange>? ranges, HashSet<string> notFolded)
    {
        _index = index;
        _options = options;
        _ranges = ranges;
        _ops = new GraphOps(options.Operators, index);
        if (ranges is not null)
        {
            IrList<Node> nodes = index.Graph.Nodes;
            for (int i = 0; i < nodes.Count; i++)
            {
                Node node = nodes[i];
                if (ActivationPlanner.FoldTarget(index, _ops, node) is { } p && node.Outputs[0] is { Length: > 0 } output
                    && !index.IsGraphOutput(output) && ranges.ContainsKey(output)
                    && !ranges.ContainsKey(node.Inputs[0]) && !notFolded.Contains(node.Inputs[0]))
                {
                    _folded[node.Inputs[0]] = (p, i);
                }
            }
        }

        foreach (Rewrites.LayerNormMatch match in Rewrites.LayerNormPattern.Find(index.Graph))
        {
            foreach (string node in match.Nodes)
            {
                _layerNormInput[node] = match.Input;
            }
        }
    }

    /// <summary>The mode of each main-graph node (by position) and the reason for each fp32 one.</summary>
    public static (NodeMode[] Modes, string?[] Reasons) Select(GraphIndex index, EncodeOptions options, IReadOnlyDictionary<string, TensorRange>? ranges)
    {
        var notFolded = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var selector = new NodeSelector(index, options, ranges, notFolded);
            (NodeMode[] modes, string?[] reasons) = selector.Run();

            // A folded output is written with its own range when only one of the pair is integer: without one, select again.
            bool again = false;
            foreach ((string tensor, (int producer, int reader)) in selector._folded)
            {
                if ((modes[producer] == NodeMode.Integer) != (modes[reader] == NodeMode.Integer) && notFolded.Add(tensor))
                {
                    again = true;
                }
            }

            if (!again)
            {
                return (modes, reasons);
            }
        }
    }

    private (NodeMode[] Modes, string?[] Reasons) Run()
    {
        IrList<Node> nodes = _index.Graph.Nodes;
        var modes = new NodeMode[nodes.Count];
        var reasons = new string?[nodes.Count];
        var candidates = new bool[nodes.Count];
        for (int i = 0; i < nodes.Count; i++)
        {
            Node node = nodes[i];
            if (node.IsDefaultDomain && node.OpType == "Constant")
            {
                modes[i] = NodeMode.Constant;
                _constantOutputs.UnionWith(node.Outputs);
                continue;
            }

            if (ComputesAConstant(node))
            {
                // e.g. a weight decoded from packed codes by a plugin: no activation flows through it at run time
                _constantOutputs.UnionWith(node.Outputs);
                reasons[i] = "computes a constant from initializers only: ONNX Runtime folds it once at load";
                continue;
            }

            reasons[i] = LoopInvariantInput(node) ?? Check(node, candidates);
            if (reasons[i] is not null)
            {
                continue;
            }

            OpRole role = _ops.RoleOf(node);
            if (role == OpRole.Linear)
            {
                modes[i] = IsDynamic(node) ? NodeMode.DynamicInteger : UsesFourBits(node) ? NodeMode.WeightOnly4 : NodeMode.Integer;
            }
            else if (role == OpRole.Dynamic)
            {
                modes[i] = NodeMode.DynamicInteger;
            }
            else if (role == OpRole.WeightOnly)
            {
                modes[i] = NodeMode.StoredInt8;
            }
            else
            {
                candidates[i] = true;
            }
        }

        // Ops between the linear ones are worth Q/DQ only when they touch quantized data: spread out from the
        // integer layers until nothing changes.
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int i = 0; i < nodes.Count; i++)
            {
                if (candidates[i] && modes[i] == NodeMode.Fp32 && TouchesIntegerNode(nodes[i], modes))
                {
                    modes[i] = NodeMode.Integer;
                    changed = true;
                }
            }
        }

        for (int i = 0; i < nodes.Count; i++)
        {
            if (candidates[i] && modes[i] == NodeMode.Fp32)
            {
                reasons[i] = "not next to a quantized layer: Q/DQ here would only add work";
            }
        }

        DynamicBiasFold.Apply(_index, _options, modes, reasons);
        return (modes, reasons);
    }

    // Inside a Loop/Scan body, Q/DQ on a value from outside the loop (a Gather of x[:, t] from the whole sequence) would
    // convert all of it in every iteration. A layer pays that once per its own, larger, work; an op between layers is
    // left fp32 and the layer quantizes what it gives, the slice.
    private string? LoopInvariantInput(Node node)
    {
        if (_index.Outer is null || _ops.Find(node) is null || _ops.RoleOf(node) is OpRole.Linear or OpRole.Dynamic)
        {
            return null;
        }

        foreach (int position in _ops.ActivationInputs(node))
        {
            if (position < node.Inputs.Count && node.Inputs[position].Length > 0 && _index.IsLoopInvariant(node.Inputs[position]))
            {
                return $"reads '{node.Inputs[position]}' from outside its loop: Q/DQ on it inside the body would convert all of it in every iteration";
            }
        }

        return null;
    }

    private bool ComputesAConstant(Node node) =>
        ConstantFolding.ComputesAConstant(node, input => _index.Constant(input) is not null || _constantOutputs.Contains(input));

    /// <summary>A layer asked to quantize its input at run time (the target's mode or its own name) whose op has such a kernel.</summary>
    internal static bool WantsDynamic(Node node, EncodeOptions options) =>
        options.WeightBits == 8 && (options.Activations == ActivationMode.Dynamic || (node.Name is { } n && options.DynamicNodeNames.Contains(n)));

    private bool IsDynamic(Node node) =>
        WantsDynamic(node, _options) && _ops.Find(node) is { } family && family.DynamicRefusal(node, _index) is null;

    // A recipe pass's encoding of at most 4 bits is written as MatMulNBits too (its codes, not rounded again); an 8-bit one
    // (the fallback's, or a pass's choice) stays an int8 QDQ layer, as does any encoding under format: qdq-blocked.
    private bool UsesFourBits(Node node) =>
        _options.WeightBits == 4 && node.OpType == "MatMul" && _ops.RoleOf(node) == OpRole.Linear
        && (!_options.WeightOverrides.TryGetValue(node.Inputs[1], out WeightEncoding? chosen)
            || (_options.FourBitFormat == FourBitFormat.MatMulNBits && chosen.Bits <= 4));

    private bool TouchesIntegerNode(Node node, NodeMode[] modes)
    {
        foreach (int position in _ops.ActivationInputs(node))
        {
            if (position < node.Inputs.Count && _index.Producer(node.Inputs[position]) is { } p && modes[p] == NodeMode.Integer)
            {
                return true;
            }
        }

        foreach (string output in node.Outputs)
        {
            foreach (int consumer in _index.Consumers(output))
            {
                if (modes[consumer] == NodeMode.Integer && _ops.IsActivationInput(_index.Graph.Nodes[consumer], output))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private string? Check(Node node, bool[] candidates)
    {
        if (node.Name is { } name && _options.ExcludedNodeNames.Contains(name))
        {
            return "excluded by node name in quantize.yaml";
        }

        if (node.Name is { } kept && _options.KeptInFloat.TryGetValue(kept, out string? why))
        {
            return why;
        }

        if (_options.ExcludedOpTypes.Contains(node.OpType))
        {
            return "excluded by op type in quantize.yaml";
        }

        if (_layerNormInput.TryGetValue(node.DisplayName, out string? normalised))
        {
            return $"part of a LayerNorm of '{normalised}' written out as elementwise ops: ONNX Runtime fuses it into one float LayerNormalization kernel, which Q/DQ on its scale and shift would stop";
        }

        if (HasSubgraph(node))
        {
            return Branches.IsIf(node)
                ? "control flow: the If itself stays fp32; the ops in its branches are quantized on their own"
                : Branches.IsLoop(node)
                    ? $"control flow: the {node.OpType} itself stays fp32; the ops in its body are quantized on their own"
                    : Branches.BodyReason;
        }

        if (!node.IsDefaultDomain)
        {
            return $"op {node.Domain}.{node.OpType} is outside the default ONNX domain";
        }

        if (_ops.Find(node) is not { } family)
        {
            return OpQuantizerRegistry.UnknownReason(node);
        }

        OpRole role = family.RoleOf(node, _index);
        if (role == OpRole.None)
        {
            return family.Refusal(node, _index) ?? OpQuantizerRegistry.UnknownReason(node);
        }

        if (!_options.Profile.Kernels.IntegerOps.Contains(node.OpType))
        {
            return $"{node.OpType} has no integer kernel on {_options.Profile.Name}";
        }

        if (family.DataOutputCount(node) != node.Outputs.Count)
        {
            return $"{node.OpType} with its optional extra output has no integer kernel";
        }

        bool dynamic = role == OpRole.Linear && IsDynamic(node);
        if (!dynamic && family.Refusal(node, _index) is { } refusal)
        {
            return refusal;
        }

        if (UnquantizableWeight(node, family) is { } weightProblem)
        {
            return weightProblem;
        }

        if (role == OpRole.Requantizing && !family.FusesWithoutOutputQuantize && OnlyFeedsGraphOutputs(node))
        {
            return "its output is a graph output: with no QuantizeLinear after it ONNX Runtime has no integer kernel for it, so quantizing its input would only add rounding";
        }

        return role switch
        {
            // Float in and out: the kernel measures its input itself, so no calibrated range is needed.
            OpRole.Linear when dynamic => Problem(node.Inputs[0], "input"),
            OpRole.Linear => CheckLinear(node, candidates),
            OpRole.Dynamic or OpRole.WeightOnly => Problem(node.Inputs[0], "input"),
            _ => CheckActivations(node, role, candidates),
        };
    }

    private string? CheckActivations(Node node, OpRole role, bool[] candidates)
    {
        foreach (int position in _ops.ActivationInputs(node))
        {
            if (position >= node.Inputs.Count || node.Inputs[position].Length == 0)
            {
                return $"input {position} is missing";
            }

            string input = node.Inputs[position];
            if (Problem(input, "input") is { } problem)
            {
                return problem;
            }

            if (_index.Constant(input) is null && !HasRange(input, candidates))
            {
                return NoRange(input, "input");
            }

            // Measured, not assumed: masked attention scores reach −1e4…−∞ and no 8-bit grid holds them and the scores.
            if (_ranges is not null && _ranges.TryGetValue(input, out TensorRange? range)
                && (float.IsInfinity(range.Min) || float.IsInfinity(range.Max) || Math.Max(-range.Min, range.Max) >= Operators.MaskValues.Magnitude))
            {
                return $"input '{input}' was calibrated to [{range.Min:G3}, {range.Max:G3}]: mask values that an 8-bit grid cannot hold next to the data";
            }
        }

        if (role == OpRole.ScaleInheriting)
        {
            return null;
        }

        foreach (string output in node.Outputs)
        {
            if (output.Length > 0 && !_index.IsGraphOutput(output) && _ranges is not null && !_ranges.ContainsKey(output) && !_folded.ContainsKey(output))
            {
                return NoRange(output, "output");
            }
        }

        return null;
    }

    private string? CheckLinear(Node node, bool[] candidates)
    {
        WeightInput at = _ops.Weight(node)!;
        if (node.Inputs.Count <= at.Input || node.Inputs[at.Input].Length == 0)
        {
            return "weight input is missing";
        }

        string weight = node.Inputs[at.Input];
        TensorValue? w = _index.Constant(weight);
        if (w is null)
        {
            return $"weight '{weight}' is not a constant (it is computed at run time)";
        }

        if (w.ElementType != ElementType.Float)
        {
            return $"weight '{weight}' is {ElementTypeInfo.OnnxName(w.ElementType)}, not float32";
        }

        if (at.Bias is { } biasAt && node.Inputs.Count > biasAt && node.Inputs[biasAt].Length > 0)
        {
            string bias = node.Inputs[biasAt];
            long channels = w.Dims[at.Axis];
            TensorValue? b = _index.IsOverridableInitializer(bias) ? null : _index.Constant(bias);
            if (b is null || b.ElementType != ElementType.Float || b.Dims.Length != 1 || b.Dims[0] != channels)
            {
                return $"bias '{bias}' is not a constant float32 vector of {channels} values, so it cannot become int32";
            }
        }

        if (UsesFourBits(node))
        {
            return Problem(node.Inputs[0], "input");
        }

        return Problem(node.Inputs[0], "input") ?? (_index.Constant(node.Inputs[0]) is not null
            ? $"input '{node.Inputs[0]}' is a constant; fold it before quantizing"
            : HasRange(node.Inputs[0], candidates) ? null : NoRange(node.Inputs[0], "input"))
            ?? OutputRangeProblem(node);
    }

    // A layer's weight that a caller may replace, or that a plugin decodes at load, keeps the node a layer: it is
    // reported as such instead of being quantized as a run-time activation.
    private string? UnquantizableWeight(Node node, OpQuantizer family)
    {
        int at = family.Weight(node, _index)?.Input ?? 1;
        if (!family.HasWeightInput || node.Inputs.Count <= at)
        {
            return null;
        }

        string weight = node.Inputs[at];
        if (_index.IsOverridableInitializer(weight))
        {
            return $"weight '{weight}' is also a graph input, so a caller may replace it at run time";
        }

        return _index.Constant(weight) is null && _constantOutputs.Contains(weight)
            ? $"weight '{weight}' is computed from initializers (decoded at load, e.g. a plugin's packed low-bit weights): the layer runs in fp32 on it"
            : null;
    }

    private bool OnlyFeedsGraphOutputs(Node node)
    {
        foreach (string output in node.Outputs)
        {
            if (output.Length > 0 && (!_index.IsGraphOutput(output) || _index.Consumers(output).Count > 0))
            {
                return false;
            }
        }

        return true;
    }

    private string? OutputRangeProblem(Node node)
    {
        string output = node.Outputs[0];
        return _index.IsGraphOutput(output) || _ranges is null || _ranges.ContainsKey(output) || _folded.ContainsKey(output)
            ? null
            : NoRange(output, "output");
    }

    // Calibration says why it could not observe some tensors (a body tensor whose shape changes between iterations).
    private string NoRange(string tensor, string what) =>
        _options.Unobserved.TryGetValue(tensor, out string? why) ? why : $"no calibrated range for {what} '{tensor}'";

    private string? Problem(string tensor, string what)
    {
        ElementType type = _index.TypeOf(tensor);
        return type switch
        {
            ElementType.Float => null,
            ElementType.Undefined => $"{what} '{tensor}' has an unknown element type (add value_info or run shape inference)",
            _ => $"{what} '{tensor}' is {ElementTypeInfo.OnnxName(type)}, not float32",
        };
    }

    // An output of a candidate shape-only op inherits its input's encoding, so it needs no range of its own.
    private bool HasRange(string tensor, bool[]? candidates)
    {
        if (_ranges is null || _ranges.ContainsKey(tensor) || _folded.ContainsKey(tensor))
        {
            return true;
        }

        return candidates is not null && _index.Producer(tensor) is { } p && candidates[p]
            && _ops.RoleOf(_index.Graph.Nodes[p]) == OpRole.ScaleInheriting;
    }

    private static bool HasSubgraph(Node node)
    {
        foreach (NodeAttribute attribute in node.Attributes)
        {
            if (attribute.Graph is not null || attribute.Graphs.Count > 0)
            {
                return true;
            }
        }

        return false;
    }
}
