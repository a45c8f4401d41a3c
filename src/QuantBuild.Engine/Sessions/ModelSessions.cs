using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx;
using QuantBuild.PassKit;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Sessions;

/// <summary>
/// Every ONNX Runtime session the engine opens on an in-memory model goes through here, so none of them serializes
/// the weights: the graph is written with its file-backed tensors as external-data references
/// (<see cref="OnnxModelSaver.SaveForSession"/>) and ORT reads them from the file itself. A calibration graph or a
/// trial is then a few kilobytes plus whatever the encoder changed, whatever the model's size.
/// </summary>
public static class ModelSessions
{
    /// <summary>ORT's session config key for the folder a from-memory model's external data is read from.</summary>
    public const string WeightsFolderKey = "session.model_external_initializers_file_folder_path";

    /// <summary>A session on <paramref name="model"/> (plus <paramref name="extraOutputs"/> as float graph outputs); the model itself is not changed.</summary>
    public static InferenceSession Open(OnnxModel model, SessionOptions? options = null, IReadOnlyList<string>? extraOutputs = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        SessionGraph graph = Serialize(model, extraOutputs ?? Array.Empty<string>());
        SessionOptions effective = options?.Clone() ?? new SessionOptions();
        if (graph.WeightsFolder is not null)
        {
            effective.AddConfigEntry(WeightsFolderKey, graph.WeightsFolder);
        }

        return new InferenceSession(graph.Graph, effective);
    }

    /// <summary>
    /// Has a session opened with <paramref name="options"/> write ORT's optimized graph to <paramref name="path"/>, to be
    /// read back at once: weights of 1 MB or more go to a side file beside it (<c>.data</c>), since a large model's
    /// optimized graph cannot be one protobuf, and ORT's warning that the file is for this machine only is silenced.
    /// </summary>
    internal static void WriteOptimizedGraph(SessionOptions options, string path)
    {
        options.OptimizedModelFilePath = path;
        options.LogSeverityLevel = LogSeverity.Error;
        options.AddConfigEntry("session.optimized_model_external_initializers_file_name", Path.GetFileName(path) + ".data");
        options.AddConfigEntry("session.optimized_model_external_initializers_min_size_in_bytes", "1048576");
    }

    private static SessionGraph Serialize(OnnxModel model, IReadOnlyList<string> extraOutputs) =>
        WithOutputs(model, extraOutputs, OnnxModelSaver.SaveForSession);

    /// <summary>
    /// Saves <paramref name="model"/> through <paramref name="save"/> with <paramref name="extraOutputs"/> added as
    /// float graph outputs. The model is not touched: the save reads a view whose main graph has its own output list
    /// and shares everything else, so targets running in parallel can open sessions on the one fp32 model at once.
    /// </summary>
    internal static T WithOutputs<T>(OnnxModel model, IReadOnlyList<string> extraOutputs, Func<OnnxModel, T> save)
    {
        var existing = new HashSet<string>(model.Graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var added = new List<ValueInfo>();
        foreach (string name in extraOutputs)
        {
            if (existing.Add(name))
            {
                added.Add(new ValueInfo { Name = name, Type = new TensorTypeInfo { ElementType = ElementType.Float } });
            }
        }

        if (added.Count == 0)
        {
            return save(model);
        }

        Graph graph = ModelClone.WithoutNodes(model.Graph);
        graph.Nodes.AddRange(model.Graph.Nodes);
        graph.Outputs.AddRange(added);
        return save(ModelClone.WithMainGraph(model, graph));
    }
}
