using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Tests.Quantization;

/// <summary>Small models built with the IR, and helpers to read the encoder's output.</summary>
internal static class TestGraphs
{
    public static OnnxModel NewModel(long opset = 17)
    {
        var model = new OnnxModel { IrVersion = 8, ProducerName = "tests" };
        model.OpsetImports.Add(new OpsetImport(string.Empty, opset));
        return model;
    }

    public static ValueInfo Value(string name, ElementType type = ElementType.Float, params object[] dims)
    {
        var shape = new TensorShape();
        foreach (object d in dims)
        {
            shape.Dims.Add(d is string s ? Dimension.Symbolic(s) : Dimension.Fixed(Convert.ToInt64(d)));
        }

        return new ValueInfo { Name = name, Type = new TensorTypeInfo { ElementType = type, Shape = shape } };
    }

    public static Node AddNode(this Graph graph, string op, string name, string[] inputs, string[] outputs, params NodeAttribute[] attributes)
    {
        var node = new Node { OpType = op, Name = name };
        node.Inputs.AddRange(inputs);
        node.Outputs.AddRange(outputs);
        node.Attributes.AddRange(attributes);
        graph.Nodes.Add(node);
        return node;
    }

    /// <summary>
    /// Adds a [6, 4] float <paramref name="name"/> decoded from packed constants, as a plugin's low-bit weights are:
    /// uint8 codes → Cast (node <c>decode_cast</c>) → Mul by a scale (node <c>decode_mul</c>).
    /// </summary>
    public static void AddDecodedWeight(this Graph graph, string name)
    {
        graph.Initializers.Add(new TensorValue { Name = "codes", ElementType = ElementType.UInt8, Dims = [6, 4], Data = Enumerable.Range(0, 24).Select(i => (byte)(i % 15)).ToArray() });
        graph.Initializers.Add(TensorValue.FromFloats("scale", [0.01f], [1]));
        graph.AddNode("Cast", "decode_cast", new[] { "codes" }, new[] { "codes_f" }, NodeAttribute.FromInt("to", (long)ElementType.Float));
        graph.AddNode("Mul", "decode_mul", new[] { "codes_f", "scale" }, new[] { name });
    }

    public static float[] AddWeight(this Graph graph, string name, int seed, float std, params long[] dims)
    {
        float[] values = Normal(seed, (int)dims.Aggregate(1L, (a, b) => a * b), std);
        graph.Initializers.Add(TensorValue.FromFloats(name, values, dims));
        return values;
    }

    public static float[] Normal(int seed, int count, float std)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            values[i] = (float)(std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return values;
    }

    /// <summary>
    /// x[N,3,16,16] → Conv(8, 3×3, pad 1)+b → Relu → MaxPool 2 → Conv(16, 3×3, pad 1)+b → Relu → Flatten →
    /// Gemm(1024→10, transB=1)+b → logits. He-initialised weights so activations have realistic ranges.
    /// </summary>
    public static OnnxModel SmallConvNet(long opset = 17)
    {
        OnnxModel model = NewModel(opset);
        Graph g = model.Graph;
        g.Name = "small_conv_net";
        g.Inputs.Add(Value("x", ElementType.Float, "batch", 3, 16, 16));
        g.Outputs.Add(Value("logits", ElementType.Float, "batch", 10));
        g.AddWeight("conv1.weight", 1, MathF.Sqrt(2f / 27), 8, 3, 3, 3);
        g.AddWeight("conv1.bias", 2, 0.1f, 8);
        g.AddWeight("conv2.weight", 3, MathF.Sqrt(2f / 72), 16, 8, 3, 3);
        g.AddWeight("conv2.bias", 4, 0.1f, 16);
        g.AddWeight("fc.weight", 5, MathF.Sqrt(2f / 1024), 10, 1024);
        g.AddWeight("fc.bias", 6, 0.1f, 10);
        NodeAttribute Pads() => NodeAttribute.FromInts("pads", 1, 1, 1, 1);
        g.AddNode("Conv", "conv1", new[] { "x", "conv1.weight", "conv1.bias" }, new[] { "c1" }, Pads(), NodeAttribute.FromInts("kernel_shape", 3, 3));
        g.AddNode("Relu", "relu1", new[] { "c1" }, new[] { "r1" });
        g.AddNode("MaxPool", "pool1", new[] { "r1" }, new[] { "p1" }, NodeAttribute.FromInts("kernel_shape", 2, 2), NodeAttribute.FromInts("strides", 2, 2));
        g.AddNode("Conv", "conv2", new[] { "p1", "conv2.weight", "conv2.bias" }, new[] { "c2" }, Pads(), NodeAttribute.FromInts("kernel_shape", 3, 3));
        g.AddNode("Relu", "relu2", new[] { "c2" }, new[] { "r2" });
        g.AddNode("Flatten", "flatten", new[] { "r2" }, new[] { "f" }, NodeAttribute.FromInt("axis", 1));
        g.AddNode("Gemm", "fc", new[] { "f", "fc.weight", "fc.bias" }, new[] { "logits" },
            NodeAttribute.FromFloat("alpha", 1f), NodeAttribute.FromFloat("beta", 1f), NodeAttribute.FromInt("transB", 1));
        return model;
    }

    /// <summary>Made-up but plausible ranges for every tensor <see cref="SmallConvNet"/>'s plan asks for.</summary>
    public static Dictionary<string, TensorRange> SmallConvNetRanges() => new(StringComparer.Ordinal)
    {
        ["x"] = new(-3f, 3f),
        ["c1"] = new(-4f, 5f),
        ["r1"] = new(0f, 5f),
        ["c2"] = new(-6f, 7f),
        ["r2"] = new(0f, 7f),
        ["f"] = new(0f, 7f),
        ["logits"] = new(-10f, 10f),
    };

    public static Node Single(this Graph graph, string op) => graph.Nodes.Single(n => n.OpType == op);

    public static Node ProducerOf(this Graph graph, string tensor) => graph.Nodes.Single(n => n.Outputs.Contains(tensor));

    public static TensorValue Initializer(this Graph graph, string name) => graph.Initializers.Single(t => t.Name == name);

    public static float[] Floats(this TensorValue t) => t.ToDense().AsSpan<float>().ToArray();

    public static sbyte[] Int8s(this TensorValue t) => t.ToDense().AsSpan<sbyte>().ToArray();

    public static int[] Int32s(this TensorValue t) => t.ToDense().AsSpan<int>().ToArray();

    /// <summary>The DequantizeLinear feeding input <paramref name="position"/> of <paramref name="node"/>.</summary>
    public static Node DequantizeFeeding(this Graph graph, Node node, int position)
    {
        Node dq = graph.ProducerOf(node.Inputs[position]);
        Assert.Equal("DequantizeLinear", dq.OpType);
        return dq;
    }
}
