using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx;
using QuantBuild.Runtime;
using QuantBuild.Tests.Shared;

namespace QuantBuild.Plugins.Nupes.Tests;

internal static class TestData
{
    /// <summary>Bell-shaped (Laplace) weights with a few outliers, like trained layers have.</summary>
    public static float[] Weights(int count, int seed)
    {
        var random = new Random(seed);
        var w = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u = random.NextDouble() - 0.5;
            w[i] = (float)(-0.05 * Math.Sign(u) * Math.Log(1 - 2 * Math.Abs(u)));
        }

        return w;
    }

    /// <summary>Inputs with correlated, unequal features (so H is far from the identity).</summary>
    public static float[] Inputs(int rows, int features, int seed)
    {
        var random = new Random(seed);
        var x = new float[rows * features];
        for (int n = 0; n < rows; n++)
        {
            double common = random.NextDouble() * 2 - 1;
            for (int i = 0; i < features; i++)
            {
                x[n * features + i] = (float)((random.NextDouble() * 2 - 1) * (1 + i % 7) + common * 2);
            }
        }

        return x;
    }

    public static string RepoRoot => RepositoryRoot.Path;


    public static string CnnSample => Path.Combine(RepoRoot, "samples", "fashion-mnist");

    public static string TransformerSample => Path.Combine(RepoRoot, "samples", "tiny-transformer");

    /// <summary>
    /// The named weights of a written model as ONNX Runtime decodes them: a model of just the nodes the names depend
    /// on (the decode subgraphs) and their initializers, run with no inputs. A name that is still an initializer is
    /// returned as stored.
    /// </summary>
    public static Dictionary<string, float[]> DecodedWeights(string modelPath, IReadOnlyCollection<string> names)
    {
        OnnxModel written = OnnxModelLoader.Load(modelPath);
        var initializers = written.Graph.Initializers.Where(t => t.Name is not null).ToDictionary(t => t.Name!, StringComparer.Ordinal);
        var producers = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (Node node in written.Graph.Nodes)
        {
            foreach (string output in node.Outputs)
            {
                producers[output] = node;
            }
        }

        var model = new OnnxModel { IrVersion = written.IrVersion, ProducerName = "nupes-test" };
        model.OpsetImports.AddRange(written.OpsetImports);
        model.Graph.Name = "decoded-weights";
        var neededNodes = new HashSet<Node>();
        var neededConstants = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(names);
        while (pending.TryPop(out string? name))
        {
            if (initializers.ContainsKey(name))
            {
                neededConstants.Add(name);
            }
            else if (producers.TryGetValue(name, out Node? node) && neededNodes.Add(node))
            {
                foreach (string input in node.Inputs.Where(i => i.Length > 0))
                {
                    pending.Push(input);
                }
            }
        }

        model.Graph.Nodes.AddRange(written.Graph.Nodes.Where(neededNodes.Contains)); // graph order is topological
        model.Graph.Initializers.AddRange(written.Graph.Initializers.Where(t => neededConstants.Contains(t.Name!)));
        foreach (string name in names)
        {
            model.Graph.Outputs.Add(new ValueInfo { Name = name, Type = new TensorTypeInfo { ElementType = ElementType.Float } });
        }

        using var session = new InferenceSession(OnnxModelSaver.SaveToBytes(model), new SessionOptions());
        return session.Run(new Dictionary<string, DenseTensor>()).ToDictionary(kv => kv.Key, kv => kv.Value.AsSpan<float>().ToArray(), StringComparer.Ordinal);
    }

    /// <summary>The quantizable layers of a model: (node, weight as [channels, length] rows, channels, length).</summary>
    public static List<(string Node, float[] Rows, int Channels, int Length)> Layers(string modelPath)
    {
        OnnxModel model = OnnxModelLoader.Load(modelPath);
        var weights = model.Graph.Initializers.Where(t => t.Name is not null).ToDictionary(t => t.Name!);
        var layers = new List<(string, float[], int, int)>();
        foreach (Node node in model.Graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul"))
        {
            if (node.Inputs.Count < 2 || !weights.TryGetValue(node.Inputs[1], out TensorValue? w) || w.ElementType != ElementType.Float)
            {
                continue;
            }

            float[] values = w.AsReadOnlySpan<float>().ToArray();
            bool rowsAreChannels = node.OpType == "Conv" || node.FindAttribute("transB")?.Int == 1;
            if (rowsAreChannels)
            {
                layers.Add((node.DisplayName, values, (int)w.Dims[0], values.Length / (int)w.Dims[0]));
            }
            else if (w.Dims.Length == 2)
            {
                int k = (int)w.Dims[0], c = (int)w.Dims[1];
                var t = new float[values.Length];
                for (int r = 0; r < k; r++)
                {
                    for (int j = 0; j < c; j++)
                    {
                        t[j * k + r] = values[r * c + j];
                    }
                }

                layers.Add((node.DisplayName, t, c, k));
            }
        }

        return layers;
    }
}
