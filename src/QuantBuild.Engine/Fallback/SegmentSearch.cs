using System.Diagnostics;
using System.Globalization;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Quantization.Operators;

namespace QuantBuild.Engine.Fallback;

/// <summary>
/// The search <c>fallback: auto</c> runs when measuring every layer alone would not fit the trial budget (a real model
/// with hundreds of quantized nodes, most of them elementwise ops the per-layer search never looks at). Measure: the
/// quantized nodes in graph order split into contiguous segments, each kept fp32 alone, and what that wins back. Keep:
/// the segments that win most, one by one, until the gate passes. Give back: halves of each kept segment, then halves
/// of those, as long as the gate still passes without them. Every node it leaves in fp32 is one whose quantization
/// a trial showed the gate cannot afford. Then, on a static 8-bit recipe, the MatMul/Gemm nodes it left in fp32 try
/// dynamic (int8 weights, input quantized at run time: no calibrated range to get wrong), together and then by halves,
/// and keep it wherever the gate still passes.
/// </summary>
public sealed class SegmentSearch
{
    /// <summary>Segments the measure phase splits the nodes into, at most.</summary>
    public const int MaxSegments = 12;

    private readonly EncodeOptions _options;
    private readonly FallbackConfig _config;
    private readonly Func<EncodeOptions, TrialResult> _trial;
    private readonly List<Node> _nodes;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<FallbackStep> _steps = new();
    private TrialResult? _initial;
    private readonly Dictionary<string, string> _why = new(StringComparer.Ordinal);
    // Nodes the encoder could write as dynamic instead of fp32 (a static MatMul/Gemm in an 8-bit recipe).
    private readonly HashSet<string> _canBeDynamic;
    private readonly HashSet<string> _dynamic = new(StringComparer.Ordinal);

    /// <summary>Prepares a search over the nodes of <paramref name="quantized"/> whose precision changes numbers.</summary>
    /// <param name="model">The fp32 model the encoder reads.</param>
    /// <param name="options">The recipe's encoder options.</param>
    /// <param name="quantized">What the recipe as written quantizes.</param>
    /// <param name="config">Trial and time budget.</param>
    /// <param name="trial">Encodes with the given options and scores the result on the gate's data.</param>
    public SegmentSearch(OnnxModel model, EncodeOptions options, IReadOnlyList<QuantizedLayer> quantized, FallbackConfig config, Func<EncodeOptions, TrialResult> trial)
    {
        _options = options;
        _config = config;
        _trial = trial;
        _nodes = Candidates(model, options, quantized);
        _canBeDynamic = DynamicCandidates(model, options, _nodes);
    }

    /// <summary>
    /// Those of <paramref name="nodes"/> that could fall back to dynamic rather than fp32: not dynamic already, and
    /// allowed by <see cref="FallbackSearch.CanGoDynamic"/> in the graph each is in.
    /// </summary>
    public static HashSet<string> DynamicCandidates(OnnxModel model, EncodeOptions options, IReadOnlyList<Node> nodes)
    {
        var names = new HashSet<string>(nodes.Select(n => n.Name!), StringComparer.Ordinal);
        names.ExceptWith(options.DynamicNodeNames);
        return Branches.Nodes(model)
            .Where(n => !string.IsNullOrEmpty(n.Node.Name) && names.Contains(n.Node.Name) && FallbackSearch.CanGoDynamic(options, n.Node, n.Scope))
            .Select(n => n.Node.Name!)
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The nodes the search may keep in fp32, in graph order.</summary>
    public int NodeCount => _nodes.Count;

    /// <summary>
    /// The quantized nodes whose precision changes the model's numbers, in graph order: named (so they can be excluded
    /// one by one) and not shape-only ops, which carry their input's grid and round nothing themselves.
    /// </summary>
    public static List<Node> Candidates(OnnxModel model, EncodeOptions options, IReadOnlyList<QuantizedLayer> quantized)
    {
        var names = new HashSet<string>(quantized.Select(l => l.NodeName), StringComparer.Ordinal);
        return Branches.Nodes(model)
            .Where(n => !string.IsNullOrEmpty(n.Node.Name) && names.Contains(n.Node.DisplayName)
                && new GraphOps(options.Operators, n.Scope).RoleOf(n.Node) is not (OpRole.ScaleInheriting or OpRole.None))
            .Select(n => n.Node)
            .ToList();
    }

    /// <summary>Runs the search from the recipe's own result and returns the report and the chosen options.</summary>
    public (FallbackReport Report, EncodeOptions Chosen, TrialResult Result) Run(TrialResult initial)
    {
        _initial = initial;
        List<List<Node>> segments = Split(_nodes, Math.Min(MaxSegments, _nodes.Count));
        var gains = new double?[segments.Count];
        var alone = new TrialResult?[segments.Count];
        var best = (Kept: new HashSet<string>(StringComparer.Ordinal), Result: initial);
        bool exhausted = false;

        for (int s = 0; s < segments.Count; s++)
        {
            if (!Budget())
            {
                exhausted = true;
                break;
            }

            HashSet<string> kept = Names(segments[s]);
            TrialResult r = Try(kept);
            gains[s] = initial.Drop - r.Drop;
            alone[s] = r;
            Record("measure", Describe(segments[s]), r, $"segment kept alone in fp32: {Verb(gains[s]!.Value)} {Num(Math.Abs(gains[s]!.Value))}");
            best = Better(best, kept, r);
        }

        List<int> order = Enumerable.Range(0, segments.Count).OrderByDescending(s => gains[s] ?? double.NegativeInfinity).ThenBy(s => s).ToList();
        var current = new HashSet<string>(StringComparer.Ordinal);
        TrialResult now = initial;
        var keptSegments = new List<int>();
        foreach (int s in order)
        {
            if (now.Passed)
            {
                break;
            }

            if (gains[s] is not double g || g <= 0)
            {
                continue;
            }

            bool reused = current.Count == 0 && alone[s] is not null;
            if (!reused && !Budget())
            {
                exhausted = true;
                break;
            }

            var next = new HashSet<string>(current, StringComparer.Ordinal);
            next.UnionWith(Names(segments[s]));
            TrialResult r = reused ? alone[s]! : Try(next);
            current = next;
            now = r;
            keptSegments.Add(s);
            Record("keep", Describe(segments[s]), r, $"gain {Num(g)} alone; the gate {(r.Passed ? "passes" : "still fails")}{(reused ? " (its measure trial, not run again)" : string.Empty)}", trial: !reused);
            Explain(segments[s], $"its segment ({Describe(segments[s])}) kept fp32 alone won back {Num(g)} of the metric; segments are kept, largest gain first, until the gate passes");
            best = Better(best, current, r);
        }

        if (now.Passed)
        {
            // Give back, least useful segment first: a half that the gate passes without goes back to int8.
            foreach (int s in Enumerable.Reverse(keptSegments))
            {
                exhausted |= !GiveBack(segments[s], ref current, ref now);
                best = Better(best, current, now);
            }

            // What is left in fp32 and has a run-time-quantized kernel tries it: together first, then by halves.
            List<Node> promotable = _nodes.Where(n => current.Contains(n.Name!) && _canBeDynamic.Contains(n.Name!)).ToList();
            exhausted |= !Promote(promotable, current, ref now);
        }

        (HashSet<string> chosen, TrialResult result) = now.Passed ? (current, now) : (best.Kept, best.Result);
        var segmentOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int s = 0; s < segments.Count; s++)
        {
            foreach (Node n in segments[s])
            {
                segmentOf[n.Name!] = s;
            }
        }

        var layers = _nodes.Select(n => new FallbackLayer(n.Name!, n.OpType, 0, "8-bit", _canBeDynamic.Contains(n.Name!) ? "dynamic, then fp32" : "fp32",
            gains[segmentOf[n.Name!]], !chosen.Contains(n.Name!) ? "8-bit" : _dynamic.Contains(n.Name!) ? "dynamic" : "fp32")).ToList();
        var report = new FallbackReport
        {
            Passed = result.Passed,
            BudgetExhausted = exhausted,
            Trials = _steps.Count(st => st.Trial > 0),
            MaxTrials = _config.MaxTrials,
            Seconds = _clock.Elapsed.TotalSeconds,
            Layers = layers,
            Steps = _steps,
            Kept = _nodes.Where(n => chosen.Contains(n.Name!)).Select(n => n.Name!).ToList(),
            KeptReasons = _nodes.Where(n => chosen.Contains(n.Name!) && !_dynamic.Contains(n.Name!) && _why.ContainsKey(n.Name!)).ToDictionary(n => n.Name!, n => _why[n.Name!], StringComparer.Ordinal),
            InitialValue = initial.Value,
            FinalValue = result.Value,
            InitialBitsPerWeight = 8,
            FinalBitsPerWeight = 8,
            Summary = Summary(result.Passed, exhausted, chosen, initial, result, segments.Count),
        };
        return (report, OptionsFor(chosen), result);
    }

    /// <summary>The encoder options that keep <paramref name="kept"/> in fp32, but for those the search made dynamic.</summary>
    public EncodeOptions OptionsFor(IReadOnlySet<string> kept) => OptionsFor(kept, _dynamic);

    private EncodeOptions OptionsFor(IReadOnlySet<string> kept, IReadOnlySet<string> dynamic)
    {
        var excluded = new HashSet<string>(_options.ExcludedNodeNames, StringComparer.Ordinal);
        excluded.UnionWith(kept.Where(k => !dynamic.Contains(k)));
        var runtime = new HashSet<string>(_options.DynamicNodeNames, StringComparer.Ordinal);
        runtime.UnionWith(kept.Where(dynamic.Contains));
        return _options with { ExcludedNodeNames = excluded, DynamicNodeNames = runtime };
    }

    /// <summary>Contiguous runs of <paramref name="nodes"/>, <paramref name="count"/> of them, sizes differing by at most one.</summary>
    public static List<List<Node>> Split(IReadOnlyList<Node> nodes, int count)
    {
        var parts = new List<List<Node>>();
        int start = 0;
        for (int i = 0; i < count; i++)
        {
            int size = (nodes.Count - start) / (count - i);
            parts.Add(nodes.Skip(start).Take(size).ToList());
            start += size;
        }

        return parts.Where(p => p.Count > 0).ToList();
    }

    // Tries to quantize again the first half, then the second; a half the gate needs is split again down to single
    // nodes. Returns false when the budget ran out.
    private bool GiveBack(List<Node> nodes, ref HashSet<string> current, ref TrialResult now)
    {
        if (nodes.Count == 0)
        {
            return true;
        }

        if (!Budget())
        {
            return false;
        }

        var without = new HashSet<string>(current, StringComparer.Ordinal);
        without.ExceptWith(Names(nodes));
        // Nothing left in fp32 is the recipe as written: its result is known.
        bool known = without.Count == 0;
        TrialResult r = known ? _initial! : Try(without);
        if (r.Passed)
        {
            current = without;
            now = r;
            Record("give back", Describe(nodes), r, "the gate passes with these quantized again: back to int8", trial: !known);
            return true;
        }

        Explain(nodes, nodes.Count == 1
            ? $"quantizing it made the gate fail ({Num(r.Value)}, drop {Num(r.Drop)}) in a trial of its own"
            : $"quantizing it with {Describe(nodes)} made the gate fail ({Num(r.Value)}); the budget ended before it was tried alone");
        Record("needed", Describe(nodes), r, (nodes.Count == 1 ? "the gate fails when it is quantized: it stays fp32" : "the gate fails with all of them quantized: split and try the halves")
            + (known ? " (the recipe as written, not run again)" : string.Empty), trial: !known);
        if (nodes.Count == 1)
        {
            return true;
        }

        int half = nodes.Count / 2;
        return GiveBack(nodes.Take(half).ToList(), ref current, ref now) && GiveBack(nodes.Skip(half).ToList(), ref current, ref now);
    }

    // Tries <paramref name="nodes"/> (all kept in fp32 now) as dynamic on top of what is dynamic already; a set the
    // gate fails with is split in halves down to single nodes, which then stay fp32. Returns false when the budget ran out.
    private bool Promote(List<Node> nodes, HashSet<string> current, ref TrialResult now)
    {
        if (nodes.Count == 0)
        {
            return true;
        }

        if (!Budget())
        {
            return false;
        }

        var dynamic = new HashSet<string>(_dynamic, StringComparer.Ordinal);
        dynamic.UnionWith(Names(nodes));
        TrialResult r = _trial(OptionsFor(current, dynamic));
        Record(r.Passed ? "dynamic" : "not dynamic", Describe(nodes), r,
            r.Passed ? "the gate passes with these quantized at run time: dynamic instead of fp32"
                : nodes.Count == 1 ? "the gate fails with it dynamic: it stays fp32" : "the gate fails with all of them dynamic: split and try the halves",
            precision: "dynamic");
        if (r.Passed)
        {
            _dynamic.UnionWith(Names(nodes));
            now = r;
            return true;
        }

        if (nodes.Count == 1)
        {
            Explain(nodes, (_why.TryGetValue(nodes[0].Name!, out string? why) ? why + "; " : string.Empty) + $"dynamic too made the gate fail ({Num(r.Value)}, drop {Num(r.Drop)})");
            return true;
        }

        int half = nodes.Count / 2;
        return Promote(nodes.Take(half).ToList(), current, ref now) && Promote(nodes.Skip(half).ToList(), current, ref now);
    }

    // The latest, most specific evidence wins: a single-node trial over its half's, a half's over its segment's.
    private void Explain(IEnumerable<Node> nodes, string why)
    {
        foreach (Node n in nodes)
        {
            _why[n.Name!] = why;
        }
    }

    private bool Budget() => _steps.Count(s => s.Trial > 0) < _config.MaxTrials && _clock.Elapsed.TotalSeconds < _config.MaxSeconds;

    private TrialResult Try(IReadOnlySet<string> kept) => _trial(OptionsFor(kept));

    private void Record(string action, string segment, TrialResult r, string why, bool trial = true, string precision = "fp32") =>
        _steps.Add(new FallbackStep(trial ? _steps.Count(s => s.Trial > 0) + 1 : 0, action, segment, precision, r.Value, r.Drop, r.Passed, 8, r.Bytes, why));

    private static HashSet<string> Names(IEnumerable<Node> nodes) => new(nodes.Select(n => n.Name!), StringComparer.Ordinal);

    private static string Describe(IReadOnlyList<Node> nodes) =>
        nodes.Count == 1 ? nodes[0].Name! : $"{nodes[0].Name} … {nodes[^1].Name} ({nodes.Count} nodes)";

    private static (HashSet<string> Kept, TrialResult Result) Better((HashSet<string> Kept, TrialResult Result) best, HashSet<string> kept, TrialResult r)
    {
        bool better = (r.Passed && !best.Result.Passed) || (r.Passed == best.Result.Passed && (r.Drop < best.Result.Drop - 1e-12
            || (Math.Abs(r.Drop - best.Result.Drop) <= 1e-12 && kept.Count < best.Kept.Count)));
        return better ? (new HashSet<string>(kept, StringComparer.Ordinal), r) : best;
    }

    private string Summary(bool passed, bool exhausted, IReadOnlySet<string> chosen, TrialResult initial, TrialResult result, int segments)
    {
        int dynamic = chosen.Count(_dynamic.Contains);
        string kept = $"{chosen.Count - dynamic} of {_nodes.Count} quantized nodes in fp32{(dynamic > 0 ? $" and {dynamic} dynamic" : string.Empty)}";
        string outcome = passed
            ? $"passes the gate with {kept}"
            : exhausted ? $"ran out of budget without passing; the best attempt keeps {kept}" : $"found no passing model; the best attempt keeps {kept}";
        return $"The recipe as written scored {Num(initial.Value)} (drop {Num(initial.Drop)}); fallback by segments ({segments} measured, too many layers to measure one by one) {outcome}: " +
            $"{Num(result.Value)} (drop {Num(result.Drop)}), {_steps.Count(s => s.Trial > 0)} trials in {_clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s.";
    }

    private static string Verb(double gain) => gain > 0 ? "wins back" : gain < 0 ? "loses" : "changes by";

    private static string Num(double v) => double.IsNaN(v) ? "-" : v.ToString("0.00##", CultureInfo.InvariantCulture);
}
