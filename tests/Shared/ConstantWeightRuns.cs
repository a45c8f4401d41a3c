using System.Text.Json;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Cli;
using QuantBuild.Onnx;

namespace QuantBuild.Tests.Shared;

/// <summary>
/// A sample model through <c>quantbuild run</c> twice: as exported (weights in initializers) and with every initializer
/// moved into a Constant node, as Paddle and tf2onnx export them. A pass must find the same layers either way and ship
/// the same quality (issue 18). Linked into the first-party plugins' test projects.
/// </summary>
internal static class ConstantWeightRuns
{
    /// <summary>A sample folder, its model file and evaluation data.</summary>
    public sealed record Sample(string Folder, string Model, string EvalInputs, string EvalLabels, int Batch);

    /// <summary>The Fashion-MNIST CNN (Conv, Gemm).</summary>
    public static Sample Cnn { get; } = new(System.IO.Path.Combine(RepositoryRoot.Path, "samples", "fashion-mnist"), "model.onnx", "eval_images.npy", "eval_labels.npy", 250);

    /// <summary>The tiny character-level transformer (attention, MatMul weights, an embedding table).</summary>
    public static Sample Transformer(string model = "model.onnx") =>
        new(System.IO.Path.Combine(RepositoryRoot.Path, "samples", "tiny-transformer"), model, "eval_inputs.npy", "eval_labels.npy", 100);

    /// <summary>
    /// Runs <paramref name="targets"/> (the yaml <c>targets:</c> block) on the sample as exported and with Constant-node
    /// weights, under <paramref name="root"/>; returns each target's JSON summary from both runs, and the two written
    /// models' folders.
    /// </summary>
    public static IReadOnlyDictionary<string, (JsonElement Initializers, JsonElement Constants)> Run(Sample sample, string targets, string root)
    {
        string source = System.IO.Path.Combine(sample.Folder, sample.Model);
        OnnxModel model = OnnxModelLoader.Load(source);
        int moved = MoveWeightsToConstantNodes(model);
        if (moved == 0)
        {
            throw new InvalidOperationException($"{source} has no initializer to move");
        }

        string constants = System.IO.Path.Combine(root, "constant-weights.onnx");
        Directory.CreateDirectory(root);
        OnnxModelSaver.Save(model, constants);
        Dictionary<string, JsonElement> a = RunOne(sample, source, targets, System.IO.Path.Combine(root, "initializers"));
        Dictionary<string, JsonElement> b = RunOne(sample, constants, targets, System.IO.Path.Combine(root, "constants"));
        return a.ToDictionary(kv => kv.Key, kv => (kv.Value, b[kv.Key]), StringComparer.Ordinal);
    }

    /// <summary>Moves every initializer a caller cannot override into a Constant node at the start of the graph.</summary>
    public static int MoveWeightsToConstantNodes(OnnxModel model)
    {
        var inputs = new HashSet<string>(model.Graph.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        List<TensorValue> moving = model.Graph.Initializers.Where(t => t.Name is { Length: > 0 } n && !inputs.Contains(n)).ToList();
        var nodes = new List<Node>();
        foreach (TensorValue value in moving)
        {
            var node = new Node { OpType = "Constant", Name = value.Name + "_Constant" };
            node.Outputs.Add(value.Name!);
            node.Attributes.Add(NodeAttribute.FromTensor("value", value));
            nodes.Add(node);
            model.Graph.Initializers.Remove(value);
        }

        model.Graph.Nodes.InsertRange(0, nodes);
        return nodes.Count;
    }

    private static Dictionary<string, JsonElement> RunOne(Sample sample, string modelPath, string targets, string output)
    {
        string data = System.IO.Path.Combine(sample.Folder, "data");
        Directory.CreateDirectory(output);
        string config = System.IO.Path.Combine(output, "quantize.yaml");
        File.WriteAllText(config,
            $"model: {modelPath}\noutput: {System.IO.Path.Combine(output, "out")}\n" +
            $"calibration:\n  data: {System.IO.Path.Combine(data, "calibration.npy")}\n  batch_size: 32\n" +
            $"evaluation:\n  data: {System.IO.Path.Combine(data, sample.EvalInputs)}\n  labels: {System.IO.Path.Combine(data, sample.EvalLabels)}\n  metric: top1\n  batch_size: {sample.Batch}\n" +
            "gate:\n  max_drop: 100\n" + targets);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["run", "-c", config, "--json", "--no-cache"], stdout, stderr, interactive: false);
        if (code != 0)
        {
            throw new InvalidOperationException($"quantbuild run on {modelPath} exited {code}:\n{stderr}");
        }

        using JsonDocument doc = JsonDocument.Parse(stdout.ToString());
        return doc.RootElement.GetProperty("targets").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t.Clone(), StringComparer.Ordinal);
    }
}
