using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx;

namespace QuantBuild.Runtime.Tests.Support;

/// <summary>Builds small ONNX models through the project's own IR and saver, the way QuantBuild itself writes models.</summary>
internal sealed class ModelBuilder
{
    private readonly OnnxModel _model;

    public ModelBuilder(long opset = 21)
    {
        _model = new OnnxModel { IrVersion = 10, ProducerName = "QuantBuild.Runtime.Tests" };
        _model.OpsetImports.Add(new OpsetImport(string.Empty, opset));
        _model.Graph.Name = "test";
    }

    public Graph Graph => _model.Graph;

    public ModelBuilder Input(string name, ElementType type, params object?[] dims)
    {
        Graph.Inputs.Add(Value(name, type, dims));
        return this;
    }

    public ModelBuilder Output(string name, ElementType type, params object?[] dims)
    {
        Graph.Outputs.Add(Value(name, type, dims));
        return this;
    }

    public ModelBuilder Initializer(TensorValue tensor)
    {
        Graph.Initializers.Add(tensor);
        return this;
    }

    public ModelBuilder Initializer<T>(string name, ElementType type, T[] values, params long[] dims) where T : unmanaged
    {
        Graph.Initializers.Add(TensorValue.FromDense(name, DenseTensor.Create<T>(type, values, dims)));
        return this;
    }

    public ModelBuilder Node(string opType, string[] inputs, string[] outputs, params NodeAttribute[] attributes)
    {
        var node = new Node { OpType = opType, Name = $"{opType}_{Graph.Nodes.Count}" };
        node.Inputs.AddRange(inputs);
        node.Outputs.AddRange(outputs);
        node.Attributes.AddRange(attributes);
        Graph.Nodes.Add(node);
        return this;
    }

    public byte[] ToBytes() => OnnxModelSaver.SaveToBytes(_model);

    public string SaveTo(string path)
    {
        OnnxModelSaver.Save(_model, path);
        return path;
    }

    /// <summary>Dims are longs (fixed), strings (symbolic) or null (unknown).</summary>
    private static ValueInfo Value(string name, ElementType type, object?[] dims)
    {
        var shape = new TensorShape();
        foreach (object? d in dims)
        {
            shape.Dims.Add(d switch
            {
                string symbol => Dimension.Symbolic(symbol),
                null => new Dimension(),
                _ => Dimension.Fixed(Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture)),
            });
        }

        return new ValueInfo { Name = name, Type = new TensorTypeInfo { ElementType = type, Shape = shape } };
    }
}
