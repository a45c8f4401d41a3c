using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Tests.Fallback;

/// <summary>
/// Variants of the Fashion-MNIST sample that compute the same function but quantize badly, as real models do:
/// activation outliers made by scaling a few of conv2's output channels up and conv3's matching input weights down
/// (Relu and MaxPool commute with a positive scale), and the classifier's Gemms rewritten as MatMul + Add so 4-bit
/// blocked weights apply to them.
/// </summary>
internal static class OutlierModels
{
    public const string Conv2 = "/features/features.3/Conv";
    public const string Conv3 = "/features/features.7/Conv";

    public static OnnxModel Sample() => OnnxModelLoader.Load(Path.Combine(TestFiles.RepoRoot, "samples", "fashion-mnist", "model.onnx"));

    /// <summary>conv2's output channels <paramref name="channels"/> scaled by <paramref name="scale"/>, conv3's weights reading them divided by it.</summary>
    public static OnnxModel WithActivationOutliers(OnnxModel model, float scale, params int[] channels)
    {
        Node conv2 = model.Graph.Nodes.Single(n => n.Name == Conv2);
        Node conv3 = model.Graph.Nodes.Single(n => n.Name == Conv3);
        Scale(model, conv2.Inputs[1], (i, dims) => channels.Contains((int)(i / (dims[1] * dims[2] * dims[3]))) ? scale : 1f);
        Scale(model, conv2.Inputs[2], (i, _) => channels.Contains((int)i) ? scale : 1f);
        Scale(model, conv3.Inputs[1], (i, dims) => channels.Contains((int)(i / (dims[2] * dims[3]) % dims[1])) ? 1f / scale : 1f);
        return model;
    }

    public const string Fc1 = "/classifier/classifier.1/Gemm";

    /// <summary>
    /// Weight outliers in fc1: the rows reading conv3's output channels <paramref name="channels"/> (25 features each
    /// after the 5×5 pool and Flatten) scaled by <paramref name="scale"/>, conv3's channels divided by it.
    /// </summary>
    public static OnnxModel WithWeightOutliers(OnnxModel model, float scale, params int[] channels)
    {
        Node conv3 = model.Graph.Nodes.Single(n => n.Name == Conv3);
        Node fc1 = model.Graph.Nodes.Single(n => n.Name == Fc1);
        Scale(model, conv3.Inputs[1], (i, dims) => channels.Contains((int)(i / (dims[1] * dims[2] * dims[3]))) ? 1f / scale : 1f);
        Scale(model, conv3.Inputs[2], (i, _) => channels.Contains((int)i) ? 1f / scale : 1f);
        // Gemm weight [128, 1600] with transB=1: element (o, k) reads feature k = channel·25 + position.
        Scale(model, fc1.Inputs[1], (i, dims) => channels.Contains((int)(i % dims[1] / 25)) ? scale : 1f);
        return model;
    }

    /// <summary>Every Gemm(A, B, C, transB=1) rewritten as MatMul(A, Bᵀ) + C, with names /…/MatMul and /…/Add.</summary>
    public static OnnxModel WithMatMulClassifier(OnnxModel model)
    {
        IrList<Node> nodes = model.Graph.Nodes;
        for (int i = 0; i < nodes.Count; i++)
        {
            Node gemm = nodes[i];
            if (gemm.OpType != "Gemm")
            {
                continue;
            }

            TensorValue w = model.Graph.Initializers.Single(t => t.Name == gemm.Inputs[1]);
            float[] v = MemoryMarshal.Cast<byte, float>(w.Data.Span).ToArray();
            long rows = w.Dims[0], cols = w.Dims[1];
            var t = new float[v.Length];
            for (long r = 0; r < rows; r++)
            {
                for (long c = 0; c < cols; c++)
                {
                    t[c * rows + r] = v[r * cols + c];
                }
            }

            string baseName = gemm.Name![..gemm.Name!.LastIndexOf('/')];
            string weight = w.Name + "_t";
            model.Graph.Initializers.Remove(w);
            model.Graph.Initializers.Add(TensorValue.FromFloats(weight, t, cols, rows));
            var matmul = new Node { Name = baseName + "/MatMul", OpType = "MatMul" };
            matmul.Inputs.AddRange(new[] { gemm.Inputs[0], weight });
            matmul.Outputs.Add(gemm.Outputs[0] + "_mm");
            var add = new Node { Name = baseName + "/Add", OpType = "Add" };
            add.Inputs.AddRange(new[] { matmul.Outputs[0], gemm.Inputs[2] });
            add.Outputs.Add(gemm.Outputs[0]);
            nodes.Replace(i, matmul);
            nodes.Insert(i + 1, add);
        }

        return model;
    }

    /// <summary>Writes <paramref name="model"/> and a quantize.yaml pointing at the sample's data into <paramref name="folder"/>.</summary>
    public static string WriteConfig(string folder, OnnxModel model, string targets, string gate = "max_drop: 0.5", string metric = "top1")
    {
        File.WriteAllBytes(Path.Combine(folder, "model.onnx"), OnnxModelSaver.SaveToBytes(model));
        string data = Path.Combine(TestFiles.RepoRoot, "samples", "fashion-mnist", "data");
        string yaml = $"""
            model: model.onnx
            output: out
            calibration: {"{"} data: {data}/calibration.npy, batch_size: 32 {"}"}
            evaluation: {"{"} data: {data}/eval_images.npy, labels: {data}/eval_labels.npy, metric: {metric}, batch_size: 100 {"}"}
            gate: {"{"} {gate} {"}"}
            targets:
            {targets}
            """;
        string path = Path.Combine(folder, "quantize.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static void Scale(OnnxModel model, string name, Func<long, long[], float> factor)
    {
        IrList<TensorValue> inits = model.Graph.Initializers;
        int k = inits.FindIndex(t => t.Name == name);
        float[] v = MemoryMarshal.Cast<byte, float>(inits[k].Data.Span).ToArray();
        for (long i = 0; i < v.Length; i++)
        {
            v[i] *= factor(i, inits[k].Dims);
        }

        inits.Replace(k, TensorValue.FromFloats(name, v, inits[k].Dims));
    }
}
