using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;

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

    /// <summary>Outputs of Constant nodes and of nodes computed from constants only, filled in graph order.</summary>
    private readonly HashSet<string> _folded = new(StringComparer.Ordinal);

    private NodeSelector(GraphIndex index, EncodeOptions options, IReadOnlyDictionary<string, TensorRange>? ranges)
    {
        _index = index;
        _options = options;
        _ranges = ranges;
    }

    /// <summary>The mode of each main-graph node (by position) and the reason for each fp32 one.</summary>
    public static (NodeMode[] Modes, string?[] Reasons) Select(GraphIndex index, EncodeOptions options, IReadOnlyDictionary<string, TensorRange>? ranges)
    {
        var selector = new NodeSelector(index, options, ranges);
        return selector.Run();
    }

    private (NodeMode[] Modes, string?[] Reasons) Run()
    {
        List<Node> nodes = _index.Graph.Nodes;
        var modes = new NodeMode[nodes.Count];
        var reasons = new string?[nodes.Count];
        var candidates = new bool[nodes.Count];
        for (int i = 0; i < nodes.Count; i++)
        {
            Node node = nodes[i];
            if (node.IsDefaultDomain && node.OpType == "Constant")
            {
                modes[i] = NodeMode.Constant;
                _folded.UnionWith(node.Outputs);
                continue;
            }

            if (ComputesAConstant(node))
            {
                // e.g. a weight decoded from packed codes by a plugin: no activation flows through it at run time
                _folded.UnionWith(node.Outputs);
                reasons[i] = "computes a constant from initializers only: ONNX Runtime folds it once at load";
                continue;
            }

            reasons[i] = Check(node, candidates);
            if (reasons[i] is not null)
            {
                continue;
            }

            if (OpRules.RoleOf(node) == OpRole.Linear)
            {
                modes[i] = UsesFourBits(node) ? NodeMode.WeightOnly4 : NodeMode.Integer;
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

        return (modes, reasons);
    }

    private bool ComputesAConstant(Node node) =>
        ConstantFolding.ComputesAConstant(node, input => _index.Constant(input) is not null || _folded.Contains(input));

    private bool UsesFourBits(Node node) =>
        _options.WeightBits == 4 && node.OpType == "MatMul" && !_options.WeightOverrides.ContainsKey(node.Inputs[1]);

    private bool TouchesIntegerNode(Node node, NodeMode[] modes)
    {
        foreach (int position in OpRules.DataInputs(node))
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
                if (modes[consumer] == NodeMode.Integer && IsDataInput(_index.Graph.Nodes[consumer], output))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool IsDataInput(Node node, string tensor)
    {
        foreach (int position in OpRules.DataInputs(node))
        {
            if (position < node.Inputs.Count && node.Inputs[position] == tensor)
            {
                return true;
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

        if (_options.ExcludedOpTypes.Contains(node.OpType))
        {
            return "excluded by op type in quantize.yaml";
        }

        if (HasSubgraph(node))
        {
            return "control flow: its subgraphs stay fp32 because calibration cannot observe their activations";
        }

        if (!node.IsDefaultDomain)
        {
            return $"op {node.Domain}.{node.OpType} is outside the default ONNX domain";
        }

        if (!_options.Profile.IntegerOps.Contains(node.OpType))
        {
            return $"{node.OpType} has no integer kernel on {_options.Profile.Name}";
        }

        OpRole role = OpRules.RoleOf(node);
        if (role == OpRole.None)
        {
            return $"the built-in encoder has no QDQ rule for {node.OpType}";
        }

        if (OpRules.DataOutputCount(node) != node.Outputs.Count)
        {
            return $"{node.OpType} with its optional extra output has no integer kernel";
        }

        return role == OpRole.Linear ? CheckLinear(node, candidates) : CheckActivations(node, role, candidates);
    }

    private string? CheckActivations(Node node, OpRole role, bool[] candidates)
    {
        foreach (int position in OpRules.DataInputs(node))
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
                return $"no calibrated range for input '{input}'";
            }
        }

        if (role == OpRole.ScaleInheriting)
        {
            return null;
        }

        foreach (string output in node.Outputs)
        {
            if (output.Length > 0 && !_index.IsGraphOutput(output) && _ranges is not null && !_ranges.ContainsKey(output))
            {
                return $"no calibrated range for output '{output}'";
            }
        }

        return null;
    }

    private string? CheckLinear(Node node, bool[] candidates)
    {
        if (node.Inputs.Count < 2 || node.Inputs[1].Length == 0)
        {
            return "weight input is missing";
        }

        string weight = node.Inputs[1];
        if (_index.IsOverridableInitializer(weight))
        {
            return $"weight '{weight}' is also a graph input, so a caller may replace it at run time";
        }

        TensorValue? w = _index.Constant(weight);
        if (w is null)
        {
            return _folded.Contains(weight)
                ? $"weight '{weight}' is computed from initializers (decoded at load, e.g. a plugin's packed low-bit weights): the layer runs in fp32 on it"
                : $"weight '{weight}' is not a constant (it is computed at run time)";
        }

        if (w.ElementType != ElementType.Float)
        {
            return $"weight '{weight}' is {ElementTypeInfo.OnnxName(w.ElementType)}, not float32";
        }

        int rank = w.Dims.Length;
        if (node.OpType == "Conv" ? rank < 3 : rank != 2)
        {
            return node.OpType == "Conv"
                ? $"weight '{weight}' has rank {rank}; Conv weights are [M, C/group, k...]"
                : $"weight '{weight}' has rank {rank}; only 2-D {node.OpType} weights have per-channel integer kernels";
        }

        if (node.OpType == "Gemm")
        {
            float alpha = node.FindAttribute("alpha")?.Float ?? 1f;
            float beta = node.FindAttribute("beta")?.Float ?? 1f;
            if (alpha != 1f)
            {
                return $"unsupported attribute: alpha = {alpha} (QGemm fusion needs 1)";
            }

            if (node.Inputs.Count > 2 && node.Inputs[2].Length > 0 && beta != 1f)
            {
                return $"unsupported attribute: beta = {beta} with a bias (QGemm fusion needs 1)";
            }
        }

        if (node.Inputs.Count > 2 && node.Inputs[2].Length > 0 && node.OpType != "MatMul")
        {
            string bias = node.Inputs[2];
            long channels = w.Dims[OpRules.WeightAxis(node).Axis];
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
            : HasRange(node.Inputs[0], candidates) ? null : $"no calibrated range for input '{node.Inputs[0]}'")
            ?? OutputRangeProblem(node);
    }

    private string? OutputRangeProblem(Node node)
    {
        string output = node.Outputs[0];
        return _index.IsGraphOutput(output) || _ranges is null || _ranges.ContainsKey(output)
            ? null
            : $"no calibrated range for output '{output}'";
    }

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
        if (_ranges is null || _ranges.ContainsKey(tensor))
        {
            return true;
        }

        return candidates is not null && _index.Producer(tensor) is { } p && candidates[p]
            && OpRules.RoleOf(_index.Graph.Nodes[p]) == OpRole.ScaleInheriting;
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
