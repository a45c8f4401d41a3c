using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Sessions;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Calibration;

/// <summary>
/// The session calibration runs, exposing the tensors to observe, with those it may take in any order of their values
/// handed over in ONNX Runtime's blocked channel layout when ORT computes them in it and the calibration is long
/// enough for that to pay.
/// <para>
/// On x64 ORT's CPU provider runs a float Conv network in NCHWc (channels in blocks of 8 or 16, the innermost axis),
/// and a tensor asked for as a graph output gets a <c>ReorderOutput</c> node turning it back to NCHW: a write and a read
/// of every exposed value per batch, a third of the forward pass's time on a Conv network. A tensor whose observer
/// keeps only per-tensor statistics (min, max, histogram counts) sees the same values in either order, so for those a
/// second session can be opened on ORT's own optimized graph (written by a session opened for that, with
/// <c>OptimizedModelFilePath</c>) with each such <c>ReorderOutput</c> taken off and the blocked tensor made the graph
/// output, without optimizing again. Only channel counts that are a multiple of 16 are taken, so no block holds
/// padding; every batch checks that the channel axis ORT reports is the count the reorder named
/// (<see cref="BlockedLayoutMismatch"/> otherwise, and calibration runs again on the plain session).
/// </para>
/// <para>
/// Writing the optimized graph and opening the session on it cost two to three session openings more, and save a
/// reorder per exposed value, so they are worth it only over enough values. The first batch runs on the plain session
/// (which writes nothing: a session told to write its optimized graph takes 1.5–2 times as long to open) and tells how
/// many values each sample exposes; the graph is written and the switch made before the second batch when the
/// calibration's samples expose at least <see cref="MinimumValues"/> in all. The choice depends only on the model, the
/// data's size and the plan, never on a timing, so a run makes it the same way every time.
/// </para>
/// </summary>
internal sealed class CalibrationSession : IDisposable
{
    /// <summary>ORT's domain of the blocked-layout kernels.</summary>
    internal const string NchwcDomain = "com.microsoft.nchwc";

    /// <summary>Channel counts taken in the blocked layout are a multiple of this (the largest block ORT uses), so no block is padded.</summary>
    internal const int ChannelMultiple = 16;

    /// <summary>
    /// Values the calibration's samples must expose in all for the blocked-layout session to be opened: 2^26 (67 M).
    /// On the Fashion-MNIST sample (docs/benchmarks.md, issue 14) the switch costs about three session openings
    /// (the session that writes the optimized graph takes 1.5–2 times as long to open as the plain one), 20–26 ms, and the
    /// reorders it saves 0.3–0.6 ns per value, so it breaks even between 33 M and 87 M values; at 256 samples (11 M
    /// values) it would make calibration slower, at 32,768 (1.4 G) it makes it faster.
    /// </summary>
    internal const long MinimumValues = 1L << 26;

    private readonly SessionOptions? _options;
    private readonly IReadOnlySet<string> _anyOrder;
    private readonly int _channelMultiple;
    private readonly long _samples;
    private readonly long _minimumValues;
    private (OnnxModel Model, IReadOnlyList<string> Outputs)? _pending;
    private Dictionary<string, (string Fetch, long Channels)> _blocked = new(StringComparer.Ordinal);
    private long _valuesPerSample = -1;

    private CalibrationSession(InferenceSession session, SessionOptions? options = null, IReadOnlySet<string>? anyOrder = null, int channelMultiple = ChannelMultiple,
        long samples = 0, long minimumValues = MinimumValues)
    {
        Session = session;
        _options = options;
        _anyOrder = anyOrder ?? new HashSet<string>(StringComparer.Ordinal);
        _channelMultiple = channelMultiple;
        _samples = samples;
        _minimumValues = minimumValues;
    }

    /// <summary>The ORT session the next batch runs on.</summary>
    public InferenceSession Session { get; private set; }

    /// <summary>Whether ORT was asked to write its optimized graph (only when the first batch showed the switch pays).</summary>
    internal bool WroteOptimizedGraph { get; private set; }

    /// <summary>Exposed tensors handed over in the blocked layout.</summary>
    public int BlockedCount => _blocked.Count;

    /// <summary>A session exposing <paramref name="outputs"/> as ORT would for any graph output.</summary>
    public static CalibrationSession Plain(OnnxModel model, SessionOptions options, IReadOnlyList<string> outputs) =>
        new(ModelSessions.Open(model, options, outputs));

    /// <summary>
    /// A session exposing <paramref name="outputs"/>, of which those in <paramref name="anyOrder"/> (main-graph tensors
    /// observed per tensor, none a model output) may come in the blocked layout once the first batch shows that the
    /// <paramref name="samples"/> to calibrate expose at least <paramref name="minimumValues"/>. Anything that keeps
    /// the optimized graph from being written or read back leaves the plain session.
    /// </summary>
    public static CalibrationSession Open(OnnxModel model, SessionOptions options, IReadOnlyList<string> outputs, IReadOnlySet<string> anyOrder,
        long samples, int channelMultiple = ChannelMultiple, long minimumValues = MinimumValues)
    {
        if (anyOrder.Count == 0 || options.GraphOptimizationLevel != GraphOptimizationLevel.All || options.OptimizedModelFilePath is not null
            || !model.Graph.Nodes.Any(n => n.IsDefaultDomain && n.OpType == "Conv"))
        {
            return Plain(model, options, outputs);
        }

        // ORT writes its optimized graph only for a session told to, which then takes 1.5–2 times as long to open: the
        // plain session runs the first batch, and the graph is written only once that batch shows the switch pays.
        return new CalibrationSession(ModelSessions.Open(model, options, outputs), options, anyOrder, channelMultiple, samples, minimumValues)
        {
            _pending = (model, outputs),
        };
    }

    /// <summary>Runs a batch and returns <paramref name="outputs"/> in that order, left in ORT's memory.</summary>
    /// <exception cref="BlockedLayoutMismatch">A blocked tensor came with a channel axis other than its count: its blocks hold padding.</exception>
    public RunOutputs RunOwned(IReadOnlyDictionary<string, DenseTensor> inputs, IReadOnlyList<string> outputs)
    {
        if (_pending is not null && _valuesPerSample >= 0)
        {
            // The first batch's outputs were observed and released with the plain session's memory: the switch, if any, is now.
            TakeBlockedLayout();
        }

        if (_blocked.Count == 0)
        {
            RunOutputs plain = Session.RunOwned(inputs, outputs);
            if (_pending is not null && _valuesPerSample < 0)
            {
                long rows = inputs.Values.Select(t => t.Shape.Length > 0 ? t.Shape[0] : 1).DefaultIfEmpty(1).Max();
                long values = outputs.Select((n, i) => _anyOrder.Contains(n) ? plain.Tensors[i].ElementCount : 0).Sum();
                _valuesPerSample = values / Math.Max(1, rows);
            }

            return plain;
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

    public void Dispose()
    {
        Session.Dispose();
        _pending = null;
    }

    // Opens the blocked-layout session in place of the plain one when the calibration's values make it pay and ORT's
    // optimized graph has reorders to take off; otherwise keeps the plain session. The optimized graph is written (by a
    // session opened only for that) into a temp folder, read back, and deleted.
    private void TakeBlockedLayout()
    {
        (OnnxModel model, IReadOnlyList<string> outputs) = _pending!.Value;
        _pending = null;
        if (_valuesPerSample * _samples < _minimumValues)
        {
            return;
        }

        string folder = Path.Combine(Path.GetTempPath(), $"quantbuild-calibration-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            OnnxModel optimized;
            Dictionary<string, (string Fetch, long Channels)> blocked;
            try
            {
                SessionOptions writing = _options!.Clone();
                ModelSessions.WriteOptimizedGraph(writing, OptimizedPath(folder));
                WroteOptimizedGraph = true;
                ModelSessions.Open(model, writing, outputs).Dispose();
                optimized = OnnxModelLoader.Load(OptimizedPath(folder));
                blocked = Unreorder(optimized.Graph, _anyOrder, _channelMultiple);
            }
            catch (Exception e) when (e is QuantBuildException or OnnxRuntimeException)
            {
                return;
            }

            if (blocked.Count == 0)
            {
                return;
            }

            SessionOptions reading = _options!.Clone();
            // The graph is ORT's own optimized one already; optimizing it again could only differ from what it was.
            reading.GraphOptimizationLevel = GraphOptimizationLevel.DisableAll;
            InferenceSession unreordered;
            try
            {
                unreordered = ModelSessions.Open(optimized, reading);
            }
            catch (OnnxRuntimeException)
            {
                return;
            }

            Session.Dispose();
            Session = unreordered;
            _blocked = blocked;
        }
        finally
        {
            DeleteFolder(folder);
        }
    }

    private static string OptimizedPath(string folder) => Path.Combine(folder, "optimized.onnx");

    private static void DeleteFolder(string folder)
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
}

/// <summary>A tensor taken in ORT's blocked layout came with a padded channel axis; calibration runs again on the plain session.</summary>
internal sealed class BlockedLayoutMismatch(string tensor, long channels, long[] shape)
    : Exception($"'{tensor}' came from ONNX Runtime's blocked layout with shape [{string.Join(", ", shape)}], not {channels} channels.");
