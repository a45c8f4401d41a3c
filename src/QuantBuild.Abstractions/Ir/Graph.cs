namespace QuantBuild.Abstractions.Ir;

/// <summary>A computation graph: nodes in topological order, weights, and typed inputs and outputs (ONNX GraphProto).</summary>
public sealed class Graph
{
    /// <summary>The graph's name.</summary>
    public string? Name { get; set; }

    /// <summary>Human-readable documentation.</summary>
    public string? DocString { get; set; }

    /// <summary>Nodes, in the order the file lists them (ONNX requires topological order).</summary>
    public IrList<Node> Nodes { get; } = new();

    /// <summary>Dense constant tensors (weights) by name.</summary>
    public IrList<TensorValue> Initializers { get; } = new();

    /// <summary>Sparse constant tensors.</summary>
    public IrList<SparseTensorValue> SparseInitializers { get; } = new();

    /// <summary>Graph inputs. May include initializers when the model allows overriding them.</summary>
    public IrList<ValueInfo> Inputs { get; } = new();

    /// <summary>Graph outputs.</summary>
    public IrList<ValueInfo> Outputs { get; } = new();

    /// <summary>Type information for intermediate values.</summary>
    public IrList<ValueInfo> ValueInfo { get; } = new();

    /// <summary>Quantization parameter annotations (ONNX TensorAnnotation).</summary>
    public IrList<TensorAnnotation> QuantizationAnnotations { get; } = new();

    /// <summary>Named metadata.</summary>
    public IrList<MetadataEntry> MetadataProps { get; } = new();
}
