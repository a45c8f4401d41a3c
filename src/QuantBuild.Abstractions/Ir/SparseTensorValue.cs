namespace QuantBuild.Abstractions.Ir;

/// <summary>A sparse constant tensor in COO form (ONNX SparseTensorProto).</summary>
public sealed class SparseTensorValue
{
    /// <summary>The non-default values; its name is the sparse tensor's name.</summary>
    public TensorValue Values { get; set; } = new();

    /// <summary>The int64 indices of the values, linearised [NNZ] or per-dimension [NNZ, rank].</summary>
    public TensorValue Indices { get; set; } = new();

    /// <summary>The dense shape.</summary>
    public long[] Dims { get; set; } = Array.Empty<long>();
}
