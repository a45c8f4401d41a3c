using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Tests.Rewrites;

/// <summary>Builds small models at any opset and compares what ONNX Runtime computes before and after a rewrite.</summary>
internal static class RewriteHarness
{
    public static OnnxModel Model(long opset, long irVersion = 5)
    {
        var model = new OnnxModel { IrVersion = irVersion, ProducerName = "rewrite-tests" };
        model.OpsetImports.Add(new OpsetImport(string.Empty, opset));
        model.Graph.Name = "g";
        return model;
    }

    public static ValueInfo Value(string name, ElementType type, params long[] dims) =>
        new() { Name = name, Type = new TensorTypeInfo { ElementType = type, Shape = TensorShape.Of(dims) } };

    /// <summary>A value whose type is declared but whose shape is not (as most old exporters wrote their outputs).</summary>
    public static ValueInfo Untyped(string name, ElementType type = ElementType.Float) =>
        new() { Name = name, Type = new TensorTypeInfo { ElementType = type } };

    public static Node Add(this Graph graph, string op, string name, string[] inputs, string[] outputs, params NodeAttribute[] attributes)
    {
        var node = new Node { OpType = op, Name = name };
        node.Inputs.AddRange(inputs);
        node.Outputs.AddRange(outputs);
        node.Attributes.AddRange(attributes);
        graph.Nodes.Add(node);
        return node;
    }

    public static DenseTensor Random(int seed, params long[] dims)
    {
        var random = new Random(seed);
        var values = new float[dims.Aggregate(1L, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(random.NextDouble() * 4 - 2);
        }

        return DenseTensor.FromFloats(values, dims);
    }

    public static OnnxModel Copy(OnnxModel model) => OnnxModelLoader.LoadFromBytes(OnnxModelSaver.SaveToBytes(model));

    public static IReadOnlyDictionary<string, DenseTensor> Run(OnnxModel model, IReadOnlyDictionary<string, DenseTensor> inputs)
    {
        using var session = new InferenceSession(OnnxModelSaver.SaveToBytes(model), new SessionOptions { IntraOpNumThreads = 1 });
        return session.Run(inputs);
    }

    /// <summary>
    /// Runs <paramref name="original"/>, applies <paramref name="rewrite"/> to a copy, runs that, and asserts every
    /// output agrees: float outputs within <paramref name="tolerance"/> relative to max(1, |value|), others exactly.
    /// Returns the rewritten model.
    /// </summary>
    public static OnnxModel AssertSameOutputs(OnnxModel original, Action<OnnxModel> rewrite, IReadOnlyDictionary<string, DenseTensor> inputs, double tolerance = 1e-6)
    {
        IReadOnlyDictionary<string, DenseTensor> before = Run(original, inputs);
        OnnxModel rewritten = Copy(original);
        rewrite(rewritten);
        IReadOnlyDictionary<string, DenseTensor> after = Run(rewritten, inputs);
        Assert.Equal(before.Keys, after.Keys);
        foreach ((string name, DenseTensor expected) in before)
        {
            DenseTensor actual = after[name];
            Assert.Equal(expected.ShapeArray(), actual.ShapeArray());
            Assert.Equal(expected.ElementType, actual.ElementType);
            if (expected.ElementType == ElementType.Float)
            {
                Assert.True(MaxRelativeError(expected.AsSpan<float>(), actual.AsSpan<float>()) <= tolerance,
                    $"{name}: max error {MaxRelativeError(expected.AsSpan<float>(), actual.AsSpan<float>())}");
            }
            else
            {
                Assert.Equal(expected.Data.ToArray(), actual.Data.ToArray());
            }
        }

        return rewritten;
    }

    public static double MaxRelativeError(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs((double)expected[i] - actual[i]) / Math.Max(1.0, Math.Abs(expected[i])));
        }

        return worst;
    }

    public static Dictionary<string, DenseTensor> Feed(string name, DenseTensor value) => new(StringComparer.Ordinal) { [name] = value };

    public static IEnumerable<string> OpTypes(Graph graph) => graph.Nodes.Select(n => n.OpType);
}
