using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Sessions;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Calibration;

/// <summary>
/// The session calibration runs, exposing the tensors to observe, with those it may take in any order of their values
/// handed over in ONNX Runtime's blocked channel layout when ORT computes them in it.
/// <para>
/// On x64 ORT's CPU provider runs a float Conv network in NCHWc (channels in blocks of 8 or 16, the innermost axis),
/// and a tensor asked for as a graph output gets a <c>ReorderOutput</c> node turning it back to NCHW: a write and a read
/// of every exposed value per batch, a third of the forward pass's time on a Conv network. A tensor whose observer
/// keeps only per-tensor statistics (min, max, histogram counts) sees the same values in either order, so for those the
/// session is opened on ORT's own optimized graph (written once with <c>OptimizedModelFilePath</c>) with each such
/// <c>ReorderOutput</c> taken off and the blocked tensor made the graph output, without optimizing again. Only channel
/// counts that are a multiple of 16 are taken, so no block holds padding; every batch checks that the channel axis ORT
/// reports is the count the reorder named (<see cref="BlockedLayoutMismatch"/> otherwise, and calibration runs again
/// on the plain session).
/// </para>
/// </summary>
internal sealed class CalibrationSession : IDisposable
{
    /// <summary>ORT's domain of the blocked-layout kernels.</summary>
    internal const string NchwcDomain = "com.microsoft.nchwc";

    /// <summary>Channel counts taken in the blocked layout are a multiple of this (the largest block ORT uses), so no block is padded.</summary>
    internal const int ChannelMultiple = 16;

    private readonly Dictionary<string, (string Fetch, long Channels)> _blocked;

    private CalibrationSession(InferenceSession session, Dictionary<string, (string Fetch, long Channels)> blocked)
    {
        Session = session;
        _blocked = blocked;
    }

    /// <summary>The ORT session.</summary>
    public InferenceSession Session { get; }

    /// <summary>Exposed tensors handed over in the blocked layout.</summary>
    public int BlockedCount => _blocked.Count;

    /// <summary>A session exposing <paramref name="outputs"/> as ORT would for any graph output.</summary>
    public static CalibrationSession Plain(OnnxModel model, SessionOptions options, IReadOnlyList<string> outputs) =>
        new(ModelSessions.Open(model, options, outputs), new Dictionary<string, (string, long)>(StringComparer.Ordinal));

    /// <summary>
    /// A session exposing <paramref name="outputs"/>, of which those in <paramref name="anyOrder"/> (main-graph tensors
    /// observed per tensor, none a model output) may come in the blocked layout. Anything that keeps the optimized graph
    /// from being written or read back gives the plain session.
    /// </summary>
    public static CalibrationSession Open(OnnxModel model, SessionOptions options, IReadOnlyList<string> outputs, IReadOnlySet<string> anyOrder,
        int channelMultiple = ChannelMultiple)
    {
        if (anyOrder.Count == 0 || options.GraphOptimizationLevel != GraphOptimizationLevel.All || options.OptimizedModelFilePath is not null
            || !model.Graph.Nodes.Any(n => n.IsDefaultDomain && n.OpType == "Conv"))
        {
            return Plain(model, options, outputs);
        }

        string folder = Path.Combine(Path.GetTempPath(), $"quantbuild-calibration-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            string path = Path.Combine(folder, "optimized.onnx");
            SessionOptions writing = options.Clone();
            ModelSessions.WriteOptimizedGraph(writing, path);
            InferenceSession plain = ModelSessions.Open(model, writing, outputs);
            OnnxModel optimized;
            Dictionary<string, (string Fetch, long Channels)> blocked;
            try
            {
                optimized = OnnxModelLoader.Load(path);
                blocked = Unreorder(optimized.Graph, anyOrder, channelMultiple);
            }
            catch (QuantBuildException)
            {
                return new CalibrationSession(plain, new Dictionary<string, (string, long)>(StringComparer.Ordinal));
            }

            if (blocked.Count == 0)
            {
                return new CalibrationSession(plain, blocked);
            }

            SessionOptions reading = options.Clone();
            // The graph is ORT's own optimized one already; optimizing it again could only differ from what it was.
            reading.GraphOptimizationLevel = GraphOptimizationLevel.DisableAll;
            InferenceSession unreordered;
            try
            {
                unreordered = ModelSessions.Open(optimized, reading);
            }
            catch (OnnxRuntimeException)
            {
                return new CalibrationSession(plain, new Dictionary<string, (string, long)>(StringComparer.Ordinal));
            }

            plain.Dispose();
            return new CalibrationSession(unreordered, blocked);
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // A platform that cannot delete a file ORT still maps leaves it in the temp folder.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>
    /// Takes off the <c>ReorderOutput</c> nodes that turn a tensor of <paramref name="anyOrder"/> from NCHWc back to
    /// NCHW only to be a graph output, making the blocked tensor the output instead (the node stays when other nodes
    /// read its NCHW result). Only NCHW results whose channel count is a multiple of <see cref="ChannelMultiple"/> are
    /// taken (<paramref name="channelMultiple"/>). Returns, by tensor, the name to fetch it under and its channel count.
    /// </summary>
    internal static Dictionary<string, (string Fetch, long Channels)> Unreorder(Graph graph, IReadOnlySet<string> anyOrder, int channelMultiple = ChannelMultiple)
    {
        var taken = new Dictionary<string, (string, long)>(StringComparer.Ordinal);
        var outputs = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Outputs.Count; i++)
        {
            outputs.TryAdd(graph.Outputs[i].Name, i);
        }

        var read = new HashSet<string>(graph.Nodes.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        foreach (Node node in graph.Nodes.Where(n => n.Domain == NchwcDomain && n.OpType == "ReorderOutput").ToList())
        {
            if (node.Inputs.Count != 1 || node.Outputs.Count != 1 || !anyOrder.Contains(node.Outputs[0]) || !outputs.TryGetValue(node.Outputs[0], out int index)
                || (node.FindAttribute("channels_last")?.Int ?? 0) != 0 || node.FindAttribute("channels")?.Int is not long channels
                || channels <= 0 || channels % channelMultiple != 0 || outputs.ContainsKey(node.Inputs[0]))
            {
                continue;
            }

            string name = node.Outputs[0], blocked = node.Inputs[0];
            graph.Outputs.Replace(index, new ValueInfo { Name = blocked, Type = new TensorTypeInfo { ElementType = ElementType.Float } });
            outputs.Remove(name);
            outputs[blocked] = index;
            if (!read.Contains(name))
            {
                graph.Nodes.Remove(node);
            }

            taken[name] = (blocked, channels);
        }

        return taken;
    }

    /// <summary>Runs a batch and returns <paramref name="outputs"/> in that order, left in ORT's memory.</summary>
    /// <exception cref="BlockedLayoutMismatch">A blocked tensor came with a channel axis other than its count: its blocks hold padding.</exception>
    public RunOutputs RunOwned(IReadOnlyDictionary<string, DenseTensor> inputs, IReadOnlyList<string> outputs)
    {
        if (_blocked.Count == 0)
        {
            return Session.RunOwned(inputs, outputs);
        }

        RunOutputs owned = Session.RunOwned(inputs, outputs.Select(n => _blocked.TryGetValue(n, out var b) ? b.Fetch : n).ToList());
        for (int i = 0; i < outputs.Count; i++)
        {
            if (!_blocked.TryGetValue(outputs[i], out var b))
            {
                continue;
            }

            long[] shape = owned.Tensors[i].Shape.ToArray();
            if (shape.Length < 3 || shape[1] != b.Channels)
            {
                owned.Dispose();
                throw new BlockedLayoutMismatch(outputs[i], b.Channels, shape);
            }
        }

        return owned;
    }

    public void Dispose() => Session.Dispose();
}

/// <summary>A tensor taken in ORT's blocked layout came with a padded channel axis; calibration runs again on the plain session.</summary>
internal sealed class BlockedLayoutMismatch(string tensor, long channels, long[] shape)
    : Exception($"'{tensor}' came from ONNX Runtime's blocked layout with shape [{string.Join(", ", shape)}], not {channels} channels.");
