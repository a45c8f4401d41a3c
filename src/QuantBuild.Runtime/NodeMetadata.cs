using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Runtime;

/// <summary>The declared type of one model input or output, as ONNX Runtime reports it.</summary>
public sealed class NodeMetadata
{
    internal NodeMetadata(bool isTensor, ElementType elementType, long[] dimensions, string[] symbolicDimensions)
    {
        IsTensor = isTensor;
        ElementType = elementType;
        Dimensions = dimensions;
        SymbolicDimensions = symbolicDimensions;
    }

    /// <summary>False for sequences, maps and optionals, which the binding does not run.</summary>
    public bool IsTensor { get; }

    /// <summary>The element type; <see cref="ElementType.Undefined"/> when not a tensor.</summary>
    public ElementType ElementType { get; }

    /// <summary>The dimensions, -1 where the size is unknown until run time (symbolic or unset).</summary>
    public IReadOnlyList<long> Dimensions { get; }

    /// <summary>The symbolic name of each dimension (for example <c>batch</c>), or an empty string where there is none.</summary>
    public IReadOnlyList<string> SymbolicDimensions { get; }

    /// <inheritdoc />
    public override string ToString()
    {
        var dims = new string[Dimensions.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = SymbolicDimensions[i].Length > 0 ? SymbolicDimensions[i] : Dimensions[i] < 0 ? "?" : Dimensions[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return IsTensor ? $"{ElementTypeInfo.OnnxName(ElementType)}[{string.Join(",", dims)}]" : "non-tensor";
    }
}
