using System.Diagnostics;
using System.Globalization;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Fallback;

/// <summary>
/// The search behind <c>fallback: auto</c>. Measure: each layer kept in higher precision alone (fp32; 8-bit inside a
/// 4-bit recipe; dynamic — its input quantized at run time — for a static MatMul/Gemm) and how much of the metric that wins back. Keep: the most sensitive layers one by one until the gate
/// passes (with a size target: the best gain per extra bit that still fits, filling the budget for the least loss).
/// Give back: each kept layer, least sensitive first, if the gate still passes without it. Within a trial and time budget.
/// </summary>
public sealed class FallbackSearch
{
    private readonly OnnxModel _model;
    private readonly EncodeOptions _options;
    private readonly FallbackConfig _config;
    private readonly Func<EncodeOptions, TrialResult> _trial;
    private readonly List<Candidate> _layers;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<FallbackStep> _steps = new();
    private readonly long _totalWeights;
    private readonly TargetEncoding.WeightSource _weights;
    private readonly bool _toFp32;

    /// <summary>Prepares a search over the linear layers <paramref name="quantized"/> names.</summary>
    /// <param name="model">The fp32 model the encoder reads.</param>
    /// <param name="options">The recipe's encoder options.</param>
    /// <param name="quantized">The layers the recipe as written quantizes.</param>
    /// <param name="config">Budget and size target.</param>
    /// <param name="trial">Encodes with the given options and scores the result on the gate's data.</param>
    /// <param name="toFp32">Fall back to fp32 even for 4-bit layers (the second round, when 8-bit was not enough).</param>
    public FallbackSearch(OnnxModel model, EncodeOptions options, IReadOnlyList<QuantizedLayer> quantized, FallbackConfig config, Func<EncodeOptions, TrialResult> trial,
        bool toFp32 = false)
    {
        _toFp32 = toFp32;
        _model = model;
        _options = options;
        _config = config;
        _trial = trial;
        _weights = TargetEncoding.Weights(model);
        // Each node with the index of the graph it is in: a layer of an If branch or a Loop/Scan body finds its weight
        // (and its producers and consumers) there, not under the same name in the main graph.
        var byName = Branches.ByName(model);
        _layers = quantized
            .Where(l => l.Weight is not null && byName.ContainsKey(l.NodeName))
            .Select(l => Describe(byName[l.NodeName].Node, byName[l.NodeName].Scope, l.WeightAxis, l.Dynamic))
            .ToList();
        _totalWeights = Math.Max(1, _layers.Sum(l => l.Weights));
    }

    /// <summary>True when some layer falls back to 8-bit or to dynamic rather than fp32, so a second round to fp32 can follow.</summary>
    public bool HasEightBitLayers => _layers.Any(l => l.HigherBits == 8);

    /// <summary>What this round's layers fall back to short of fp32 ("8-bit", "dynamic" or both), for the escalation summary.</summary>
    public string Intermediate => string.Join(" / ", _layers.Where(l => l.HigherBits == 8).Select(l => l.Higher).Distinct().Order(StringComparer.Ordinal));

    /// <summary>The layers the search may move.</summary>
    public int LayerCount => _layers.Count;

    /// <summary>Runs the search from the recipe's own result and returns the report and the chosen options.</summary>
    public (FallbackReport Report, EncodeOptions Chosen, TrialResult Result) Run(TrialResult initial)
    {
        double initialBits = Bits(new HashSet<string>());
        var best = (Kept: new HashSet<string>(StringComparer.Ordinal), Result: initial);
        bool exhausted = false;

        // Measure: what each layer alone wins back.
        foreach (Candidate c in _layers)
        {
            if (!Budget())
            {
                exhausted = true;
                break;
            }

            var kept = new HashSet<string>(StringComparer.Ordinal) { c.Node.Name! };
            TrialResult r = Try(kept);
            c.Gain = initial.Drop - r.Drop;
            c.Alone = r;
            Record("measure", c, r, kept, $"kept alone in {c.Phrase}: {Verb(c.Gain.Value)} {Num(Math.Abs(c.Gain.Value))}");
            if (FitsBits(kept) && (_config.MaxBytes is not long cap || r.Bytes <= cap))
            {
                best = Better(best, kept, r);
            }
        }

        bool sized = _config.MaxBitsPerWeight is not null || _config.MaxBytes is not null;
        // Most sensitive first; unmeasured layers last, smaller first. With a size target: gain per extra bit.
        List<Candidate> order = _layers
            .OrderByDescending(c => c.Gain ?? double.NegativeInfinity)
            .ThenBy(c => c.Weights)
            .ToList();
        if (sized)
        {
            order = order.OrderByDescending(c => (c.Gain ?? double.NegativeInfinity) / Math.Max(1, c.Weights * (c.HigherBits - c.RecipeBits))).ToList();
        }

        var current = new HashSet<string>(StringComparer.Ordinal);
        TrialResult now = initial;
        if (!(now.Passed && !sized))
        {
            foreach (Candidate c in order)
            {
                if (c.Gain is double g && g <= 0 && !sized)
                {
                    continue;
                }

                var next = new HashSet<string>(current, StringComparer.Ordinal) { c.Node.Name! };
                if (!FitsBits(next))
                {
                    Record("skip (size)", c, now, current, $"keeping it in {c.Higher} would exceed the size target ({Num(Bits(next))} bits per weight)", trial: false);
                    continue;
                }

                if (sized && c.Gain is double sg && sg <= 0)
                {
                    continue;
                }

                if (!Budget())
                {
                    exhausted = true;
                    break;
                }

                bool reused = current.Count == 0 && c.Alone is not null;
                TrialResult r = reused ? c.Alone! : Try(next);
                if (sized && _config.MaxBytes is long maxBytes && r.Bytes > maxBytes)
                {
                    Record("skip (size)", c, r, next, $"the model would be {r.Bytes} bytes, over max_bytes {maxBytes}");
                    continue;
                }

                current = next;
                now = r;
                Record("keep", c, r, current, $"{(c.IsDynamic ? "dynamic beats its static range: " : string.Empty)}gain {Num(c.Gain ?? double.NaN)} alone; the gate {(r.Passed ? "passes" : "still fails")}{(reused ? " (its measure trial, not run again)" : string.Empty)}", trial: !reused);
                best = Better(best, current, r);
                if (r.Passed && !sized)
                {
                    break;
                }
            }

            // Give back: least sensitive kept layer first; keep the removal when the gate still passes.
            if (now.Passed && !sized)
            {
                foreach (Candidate c in order.Where(c => current.Contains(c.Node.Name!)).Reverse().ToList())
                {
                    if (current.Count <= 1 || !Budget())
                    {
                        exhausted |= !Budget();
                        break;
                    }

                    var without = new HashSet<string>(current, StringComparer.Ordinal);
                    without.Remove(c.Node.Name!);
                    TrialResult r = Try(without);
                    if (r.Passed)
                    {
                        current = without;
                        now = r;
                        Record("give back", c, r, current, "the gate passes without it: back to the recipe's precision");
                        best = Better(best, current, r);
                    }
                    else
                    {
                        Record("needed", c, r, without, "the gate fails without it: it stays");
                    }
                }
            }
        }

        // The chosen model: the last passing state the search walked to; else the best attempt.
        (HashSet<string> chosen, TrialResult result) = now.Passed && FitsBits(current) ? (current, now) : (best.Kept, best.Result);
        bool passed = result.Passed && FitsBits(chosen) && (_config.MaxBytes is not long mb || result.Bytes <= mb);
        var layers = order.Select(c => new FallbackLayer(c.Node.Name!, c.Node.OpType, c.Weights, c.Recipe, c.Higher, c.Gain,
            chosen.Contains(c.Node.Name!) ? c.Higher : c.Recipe)).ToList();
        var report = new FallbackReport
        {
            Passed = passed,
            BudgetExhausted = exhausted,
            Trials = _steps.Count(s => s.Trial > 0),
            MaxTrials = _config.MaxTrials,
            Seconds = _clock.Elapsed.TotalSeconds,
            Layers = layers,
            Steps = _steps,
            Kept = layers.Where(l => chosen.Contains(l.Node)).Select(l => l.Node).ToList(),
            InitialValue = initial.Value,
            FinalValue = result.Value,
            InitialBitsPerWeight = initialBits,
            FinalBitsPerWeight = Bits(chosen),
            MaxBitsPerWeight = _config.MaxBitsPerWeight,
            MaxBytes = _config.MaxBytes,
            Summary = Summary(passed, exhausted, chosen, initial, result, layers),
        };
        return (report, OptionsFor(chosen), result);
    }

    /// <summary>The encoder options that keep <paramref name="kept"/> in their higher precision.</summary>
    public EncodeOptions OptionsFor(IReadOnlySet<string> kept)
    {
        var excluded = new HashSet<string>(_options.ExcludedNodeNames, StringComparer.Ordinal);
        var overrides = new Dictionary<string, WeightEncoding>(_options.WeightOverrides, StringComparer.Ordinal);
        var dynamic = new HashSet<string>(_options.DynamicNodeNames, StringComparer.Ordinal);
        foreach (Candidate c in _layers.Where(c => kept.Contains(c.Node.Name!)))
        {
            if (c.IsDynamic)
            {
                dynamic.Add(c.Node.Name!);
            }
            else if (c.HigherBits == 8)
            {
                overrides[c.Node.Inputs[1]] = TargetEncoding.EightBit(c.Node, c.WeightAxis, _weights);
            }
            else
            {
                excluded.Add(c.Node.Name!);
            }
        }

        return _options with { ExcludedNodeNames = excluded, WeightOverrides = overrides, DynamicNodeNames = dynamic };
    }

    /// <summary>Nominal bits per quantizable weight with <paramref name="kept"/> in higher precision.</summary>
    public double Bits(IReadOnlySet<string> kept) =>
        _layers.Sum(c => (double)c.Weights * (kept.Contains(c.Node.Name!) ? c.HigherBits : c.RecipeBits)) / _totalWeights;

    /// <summary>True when even the recipe as written (nothing kept) is over the bits-per-weight target.</summary>
    public bool SizeUnreachable(long initialBytes) =>
        (_config.MaxBitsPerWeight is double b && Bits(new HashSet<string>()) > b + 1e-9) || (_config.MaxBytes is long m && initialBytes > m);

    private bool FitsBits(IReadOnlySet<string> kept) => _config.MaxBitsPerWeight is not double b || Bits(kept) <= b + 1e-9;

    private bool Budget() => _steps.Count(s => s.Trial > 0) < _config.MaxTrials && _clock.Elapsed.TotalSeconds < _config.MaxSeconds;

    private TrialResult Try(IReadOnlySet<string> kept) => _trial(OptionsFor(kept));

    private void Record(string action, Candidate c, TrialResult r, IReadOnlySet<string> kept, string why, bool trial = true) =>
        _steps.Add(new FallbackStep(trial ? _steps.Count(s => s.Trial > 0) + 1 : 0, action, c.Node.Name, c.Higher, r.Value, r.Drop, r.Passed, Bits(kept), r.Bytes, why));

    private static (HashSet<string> Kept, TrialResult Result) Better((HashSet<string> Kept, TrialResult Result) best, HashSet<string> kept, TrialResult r)
    {
        bool better = (r.Passed && !best.Result.Passed) || (r.Passed == best.Result.Passed && (r.Drop < best.Result.Drop - 1e-12
            || (Math.Abs(r.Drop - best.Result.Drop) <= 1e-12 && kept.Count < best.Kept.Count)));
        return better ? (new HashSet<string>(kept, StringComparer.Ordinal), r) : best;
    }

    /// <summary>
    /// True when <paramref name="node"/>, static in an 8-bit recipe, could fall back to dynamic (int8 weights, its input
    /// quantized at run time) rather than fp32: no recipe pass chose its weight's codes, and its op's quantizer has a
    /// run-time-quantized kernel for it. The per-layer search and the segment search both ask this.
    /// </summary>
    internal static bool CanGoDynamic(EncodeOptions options, Node node, GraphIndex scope) =>
        options.WeightBits == 8 && (node.Inputs.Count < 2 || !options.WeightOverrides.ContainsKey(node.Inputs[1]))
        && options.Operators.Find(node)?.DynamicRefusal(node, scope) is null;

    private Candidate Describe(Node node, GraphIndex scope, int weightAxis, bool recipeDynamic)
    {
        long elements = _weights(node.Inputs[1]).Values.LongLength;
        if (Quantization.Operators.RecurrentWeights.IsRecurrent(node))
        {
            // LSTM/GRU/RNN store their recurrent weight R at the same width as W.
            elements += _weights(node.Inputs[2]).Values.LongLength;
        }

        bool fourBit = _options.WeightBits == 4 && node.OpType == "MatMul"
            && (!_options.WeightOverrides.TryGetValue(node.Inputs[1], out WeightEncoding? chosen) || chosen.Bits <= 4);
        // A static 8-bit layer whose op has a run-time-quantized kernel tries that before fp32: no range to get wrong.
        bool dynamic = !recipeDynamic && !_toFp32 && CanGoDynamic(_options, node, scope);
        int higher = (fourBit && !_toFp32 && _options.Profile.Kernels.WeightBits.Contains(8)) || dynamic ? 8 : 32;
        return new Candidate(node, weightAxis, elements, fourBit ? 4 : 8, higher, dynamic, recipeDynamic);
    }

    private string Summary(bool passed, bool exhausted, IReadOnlySet<string> chosen, TrialResult initial, TrialResult result, IReadOnlyList<FallbackLayer> layers)
    {
        string kept = chosen.Count == 0 ? "no layer" : string.Join(", ", layers.Where(l => chosen.Contains(l.Node)).Select(l => $"{l.Node} in {l.Higher} (gain {Num(l.Gain ?? double.NaN)})"));
        string outcome = passed
            ? $"passes the gate with {kept}"
            : exhausted ? $"ran out of budget without passing; the best attempt keeps {kept}" : $"found no passing model; the best attempt keeps {kept}";
        return $"The recipe as written scored {Num(initial.Value)} (drop {Num(initial.Drop)}); fallback {outcome}: {Num(result.Value)} (drop {Num(result.Drop)}), " +
            $"{Num(Bits(chosen))} bits per weight, {_steps.Count(s => s.Trial > 0)} trials in {_clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s.";
    }

    private static string Verb(double gain) => gain > 0 ? "wins back" : gain < 0 ? "loses" : "changes by";

    private static string Precision(int bits) => bits == 32 ? "fp32" : $"{bits}-bit";

    private static string Num(double v) => double.IsNaN(v) ? "-" : v.ToString("0.00##", CultureInfo.InvariantCulture);

    private sealed class Candidate(Node node, int weightAxis, long weights, int recipeBits, int higherBits, bool isDynamic = false, bool recipeDynamic = false)
    {
        /// <summary>True when this layer falls back to dynamic (int8 weights, input quantized at run time) rather than a wider grid.</summary>
        public bool IsDynamic { get; } = isDynamic;

        public string Recipe => recipeDynamic ? "dynamic" : Precision(RecipeBits);

        public string Phrase => IsDynamic ? "dynamic (its input quantized at run time)" : Higher;

        public Node Node { get; } = node;

        public int WeightAxis { get; } = weightAxis;

        public long Weights { get; } = weights;

        public int RecipeBits { get; } = recipeBits;

        public int HigherBits { get; } = higherBits;

        public string Higher => IsDynamic ? "dynamic" : HigherBits == 32 ? "fp32" : $"{HigherBits}-bit";

        public double? Gain { get; set; }

        public TrialResult? Alone { get; set; }
    }
}
