using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Testing;

namespace QuantBuild.PassKit.Tests;

/// <summary>One-node models built with the IR, and ONNX Runtime running them (through the engine's pass context).</summary>
internal static class OrtModels
{
    public static OnnxModel Single(Node node, long[] inputShape, params TensorValue[] initializers)
    {
        var model = new OnnxModel { IrVersion = 8, ProducerName = "passkit-tests" };
        model.OpsetImports.Add(new OpsetImport(string.Empty, 17));
        model.Graph.Name = "single";
        model.Graph.Inputs.Add(Value("x", inputShape));
        model.Graph.Outputs.Add(new ValueInfo { Name = "y", Type = new TensorTypeInfo { ElementType = ElementType.Float } });
        model.Graph.Initializers.AddRange(initializers);
        model.Graph.Nodes.Add(node);
        return model;
    }

    public static DenseTensor Run(OnnxModel model, DenseTensor x)
    {
        var inputs = new Dictionary<string, DenseTensor> { ["x"] = x };
        using PassTestContext context = PassTestContext.FromTensors(model, inputs);
        return context.Runner.Run(model, inputs)["y"];
    }

    public static Node Node(string op, string[] inputs, params NodeAttribute[] attributes)
    {
        var node = new Node { OpType = op, Name = op.ToLowerInvariant() };
        node.Inputs.AddRange(inputs);
        node.Outputs.Add("y");
        node.Attributes.AddRange(attributes);
        return node;
    }

    public static ValueInfo Value(string name, long[] dims)
    {
        var shape = new TensorShape();
        shape.Dims.AddRange(dims.Select(Dimension.Fixed));
        return new ValueInfo { Name = name, Type = new TensorTypeInfo { ElementType = ElementType.Float, Shape = shape } };
    }

    public static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }
}
