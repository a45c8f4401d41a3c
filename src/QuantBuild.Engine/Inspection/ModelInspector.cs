using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Quantization.Operators;
using QuantBuild.Onnx.Preserved;

namespace QuantBuild.Engine.Inspection;

/// <summary>Builds a <see cref="ModelReport"/> from a loaded model: what <c>quantbuild inspect</c> shows.</summary>
public static class ModelInspector
{
    /// <summary>Summarises <paramref name="model"/>, loaded from <paramref name="path"/>.</summary>
    public static ModelReport Inspect(OnnxModel model, string path)
    {
        var walk = new Walk(OpQuantizerRegistry.CreateBuiltIn(), Fp32Reasons(model));
        walk.Visit(model.Graph, subgraphPath: null, outerConstants: new HashSet<string>(StringComparer.Ordinal));

        var initializerNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorValue t in model.Graph.Initializers)
        {
            initializerNames.Add(t.Name ?? string.Empty);
        }

        var inputs = new List<ValueSummary>();
        foreach (ValueInfo input in model.Graph.Inputs)
        {
            // Models written before IR version 4 list every initializer as an input too; those are weights, not inputs.
            if (!initializerNames.Contains(input.Name))
            {
                inputs.Add(Summarise(input));
            }
        }

        var outputs = model.Graph.Outputs.Select(Summarise).ToList();
        var opsets = model.OpsetImports.Select(o => new OpsetSummary(o.IsDefaultDomain ? "ai.onnx" : o.Domain, o.Version)).ToList();

        var ops = walk.OpCounts.Select(kv => new OpCount(kv.Key, kv.Value))
            .OrderByDescending(o => o.Count).ThenBy(o => o.OpType, StringComparer.Ordinal).ToList();
        var byType = walk.ParametersByType.Values
            .Select(a => new ParameterSummary(ElementTypeInfo.OnnxName(a.Type), a.Tensors, a.Elements, a.Bytes))
            .OrderByDescending(p => p.Bytes).ThenBy(p => p.ElementType, StringComparer.Ordinal).ToList();
        var external = walk.External.Select(kv => new ExternalDataSummary(kv.Key, kv.Value.Tensors, kv.Value.Bytes))
            .OrderBy(e => e.Location, StringComparer.Ordinal).ToList();

        string? producer = model.ProducerName is null ? null
            : string.IsNullOrEmpty(model.ProducerVersion) ? model.ProducerName : $"{model.ProducerName} {model.ProducerVersion}";

        return new ModelReport
        {
            Path = path,
            FileBytes = new FileInfo(path).Length,
            IrVersion = model.IrVersion,
            Producer = producer,
            Opsets = opsets,
            Inputs = inputs,
            Outputs = outputs,
            NodeCount = walk.NodeCount,
            Ops = ops,
            ParameterCount = byType.Sum(p => p.Elements),
            ParameterBytes = byType.Sum(p => p.Bytes),
            ParametersByType = byType,
            UsesExternalData = external.Count > 0,
            ExternalData = external,
            AlreadyQuantized = walk.SawQuantizedOp,
            Quantizable = walk.Quantizable,
        };
    }

    // What `run` would do with each node of the main graph and of its If branches and Loop/Scan bodies on the default
    // device, planned by the same selector over the same scopes; nodes of other ops' subgraphs are absent (they stay fp32).
    private static Dictionary<Node, string?> Fp32Reasons(OnnxModel model)
    {
        var options = new EncodeOptions { Profile = DeviceProfiles.CpuX64Vnni };
        var byNode = new Dictionary<Node, string?>(ReferenceEqualityComparer.Instance);
        foreach (GraphIndex index in Branches.Walk(new GraphIndex(model)))
        {
            (NodeMode[] modes, string?[] reasons) = NodeSelector.Select(index, options, null);
            for (int i = 0; i < modes.Length; i++)
            {
                byNode[index.Graph.Nodes[i]] = modes[i] is NodeMode.Integer or NodeMode.WeightOnly4 or NodeMode.DynamicInteger or NodeMode.StoredInt8 ? null : reasons[i] ?? "not quantized";
            }
        }

        return byNode;
    }

    private static ValueSummary Summarise(ValueInfo value)
    {
        switch (value.Type)
        {
            case TensorTypeInfo tensor:
                IReadOnlyList<string>? shape = tensor.Shape?.Dims.Select(d => d.ToString()).ToList();
                string kind = tensor is SparseTensorTypeInfo ? "sparse " : string.Empty;
                return new ValueSummary(value.Name, kind + ElementTypeInfo.OnnxName(tensor.ElementType), shape);
            case SequenceTypeInfo:
                return new ValueSummary(value.Name, "sequence", null);
            case MapTypeInfo:
                return new ValueSummary(value.Name, "map", null);
            case OptionalTypeInfo:
                return new ValueSummary(value.Name, "optional", null);
            default:
                return new ValueSummary(value.Name, "unknown", null);
        }
    }

    private sealed class Walk(OpQuantizerRegistry registry, Dictionary<Node, string?> plannedReasons)
    {
        private readonly IReadOnlySet<string> _layerOps = registry.LayerOpTypes();

        public int NodeCount;
        public bool SawQuantizedOp;
        public readonly Dictionary<string, int> OpCounts = new(StringComparer.Ordinal);
        public readonly Dictionary<ElementType, (ElementType Type, int Tensors, long Elements, long Bytes)> ParametersByType = new();
        public readonly Dictionary<string, (int Tensors, long Bytes)> External = new(StringComparer.Ordinal);
        public readonly List<QuantizableNode> Quantizable = new();

        public void Visit(Graph graph, string? subgraphPath, HashSet<string> outerConstants, Dictionary<string, long[]>? outerShapes = null)
        {
            // A subgraph sees its enclosing graphs' constants, so a weight defined outside an If branch or a loop body
            // still counts as constant, with its shape.
            var constants = new HashSet<string>(outerConstants, StringComparer.Ordinal);
            var constantShapes = outerShapes is null ? new Dictionary<string, long[]>(StringComparer.Ordinal) : new Dictionary<string, long[]>(outerShapes, StringComparer.Ordinal);
            var decoded = new HashSet<string>(StringComparer.Ordinal); // computed from constants only, folded at load
            foreach (TensorValue t in graph.Initializers)
            {
                CountTensor(t);
                constants.Add(t.Name ?? string.Empty);
                constantShapes[t.Name ?? string.Empty] = t.Dims;
            }

            foreach (SparseTensorValue s in graph.SparseInitializers)
            {
                CountTensor(s.Values);
                constants.Add(s.Values.Name ?? string.Empty);
                constantShapes[s.Values.Name ?? string.Empty] = s.Dims;
            }

            foreach (Node node in graph.Nodes)
            {
                NodeCount++;
                string key = node.IsDefaultDomain ? node.OpType : $"{node.Domain}.{node.OpType}";
                OpCounts[key] = OpCounts.TryGetValue(key, out int n) ? n + 1 : 1;
                if (OpQuantizerRegistry.IsQuantizedOp(node))
                {
                    SawQuantizedOp = true;
                }

                if (node.IsDefaultDomain && node.OpType == "Constant" && node.Outputs.Count == 1)
                {
                    constants.Add(node.Outputs[0]);
                    TensorValue? value = ConstantValue(node);
                    if (value is not null)
                    {
                        CountTensor(value);
                        constantShapes[node.Outputs[0]] = value.Dims;
                    }
                }

                if (ConstantFolding.ComputesAConstant(node, name => constants.Contains(name) || decoded.Contains(name)))
                {
                    decoded.UnionWith(node.Outputs);
                }

                if (node.IsDefaultDomain && _layerOps.Contains(node.OpType))
                {
                    QuantizableNode q = Describe(node, constants, constantShapes, subgraphPath);
                    string? reason = plannedReasons.TryGetValue(node, out string? planned) ? planned : Branches.BodyReason;
                    Quantizable.Add(q with { WeightIsDecoded = q.Weight is { } w && decoded.Contains(w), Fp32Reason = reason });
                }

                foreach (NodeAttribute attribute in node.Attributes)
                {
                    string prefix = (subgraphPath is null ? string.Empty : subgraphPath + "/") + node.DisplayName + "/" + attribute.Name;
                    if (attribute.Graph is not null)
                    {
                        Visit(attribute.Graph, prefix, constants, constantShapes);
                    }

                    for (int i = 0; i < attribute.Graphs.Count; i++)
                    {
                        Visit(attribute.Graphs[i], $"{prefix}[{i}]", constants, constantShapes);
                    }
                }
            }
        }

        private static TensorValue? ConstantValue(Node node)
        {
            foreach (NodeAttribute attribute in node.Attributes)
            {
                if (attribute.Tensor is not null)
                {
                    return attribute.Tensor;
                }

                if (attribute.SparseTensor is not null)
                {
                    return attribute.SparseTensor.Values;
                }
            }

            return null;
        }

        private static QuantizableNode Describe(Node node, HashSet<string> constants, Dictionary<string, long[]> shapes, string? subgraphPath)
        {
            // MatMul may carry its constant on either side (x·W or W·x); the other ops' weight is always input 1.
            int weightIndex = 1;
            if (node.OpType == "MatMul" && node.Inputs.Count > 1 && !constants.Contains(node.Inputs[1]) && constants.Contains(node.Inputs[0]))
            {
                weightIndex = 0;
            }

            string? weight = node.Inputs.Count > weightIndex ? node.Inputs[weightIndex] : null;
            bool isConstant = weight is not null && constants.Contains(weight);
            IReadOnlyList<long>? shape = weight is not null && shapes.TryGetValue(weight, out long[]? dims) ? dims : null;
            return new QuantizableNode(node.DisplayName, node.OpType, weight, shape, isConstant, subgraphPath);
        }

        private void CountTensor(TensorValue tensor)
        {
            long elements = tensor.ElementCount;
            long bytes = tensor.ByteSize;
            ParametersByType.TryGetValue(tensor.ElementType, out var sum);
            ParametersByType[tensor.ElementType] = (tensor.ElementType, sum.Tensors + 1, sum.Elements + elements, sum.Bytes + bytes);
            if (OnnxTensorFields.ExternalDataOf(tensor) is { } ext)
            {
                External.TryGetValue(ext.Location, out var e);
                External[ext.Location] = (e.Tensors + 1, e.Bytes + bytes);
            }
        }
    }
}
