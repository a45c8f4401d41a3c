using System.Diagnostics;
using System.Globalization;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.PassKit;

namespace QuantBuild.Plugins.SmoothQuant;

/// <summary>
/// <c>smoothquant</c>: for each linear (MatMul/Gemm with a constant weight) reading activation X,
/// s_j = max|X_j|^alpha / max|W_j|^(1-alpha); X is divided by s (folded into X's producer where possible, else a
/// Mul is inserted) and the weight's input rows multiplied by s. Linears reading the same X share one s. The fp32
/// model computes the same function afterwards; the int8 encoder that follows sees activations without outlier
/// channels and weights that absorbed them.
/// </summary>
public sealed class SmoothQuantPass : QuantizationPass<SmoothQuantOptions>
{
    /// <inheritdoc />
    public override string Name => "smoothquant";

    /// <inheritdoc />
    public override IReadOnlyCollection<string> SupportedOps => ["MatMul", "Gemm"];

    /// <inheritdoc />
    public override void Run(IPassContext context, SmoothQuantOptions options) => Smooth(context, options);

    /// <summary>Runs the pass and returns what it did (the tests and benchmarks read it).</summary>
    internal static SmoothQuantResult Smooth(IPassContext context, SmoothQuantOptions options)
    {
        var clock = Stopwatch.StartNew();
        if (options.Search is { } search && search.AlphaMin > search.AlphaMax)
        {
            throw new ArgumentException($"smoothquant: search.alpha_min ({search.AlphaMin}) is above search.alpha_max ({search.AlphaMax}).");
        }

        var view = new GraphIndex(context.Model);
        List<SmoothingGroup> groups = Smoother.Plan(view, options.OpTypes, options.Fold);
        var result = new SmoothQuantResult();
        foreach (SmoothingGroup skipped in groups.Where(g => g.Fold == FoldKind.Skipped))
        {
            context.Log.Information($"left {skipped.Describe()}");
        }

        groups.RemoveAll(g => g.Fold == FoldKind.Skipped);
        if (groups.Count == 0)
        {
            context.Log.Warning($"no {string.Join("/", options.OpTypes)} with a constant weight to smooth");
            return result;
        }

        var statsClock = Stopwatch.StartNew();
        IReadOnlyDictionary<string, ITensorStatistics> stats = context.CollectStatistics(groups.Select(g => g.Activation).ToList(), -1);
        result.StatisticsTime = statsClock.Elapsed;
        var activationMax = new Dictionary<SmoothingGroup, float[]>();
        foreach (SmoothingGroup group in groups.ToList())
        {
            if (!stats.TryGetValue(group.Activation, out ITensorStatistics? st) || st.ChannelAbsMax.Count != group.K)
            {
                context.Log.Warning($"skipped {group.Describe()}: no per-channel statistics of length {group.K}");
                groups.Remove(group);
                continue;
            }

            activationMax[group] = st.ChannelAbsMax.ToArray();
        }

        // Every s comes from the model as it was: the weights' maxima are read before any group is applied.
        var weightMax = groups.ToDictionary(g => g, g => g.WeightAbsMax(view));
        var alphas = groups.ToDictionary(g => g, _ => options.Alpha);
        if (options.Search is { } s)
        {
            Search(context, options, s, groups, activationMax, weightMax, view, alphas, result);
        }

        int done = 0;
        foreach (SmoothingGroup group in groups)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            float[] scales = Smoother.Scales(activationMax[group], weightMax[group], alphas[group], options.MinActivation);
            Smoother.Apply(view, group, scales);
            view.Refresh();
            var record = new GroupResult(group.Activation, group.Linears.Select(l => l.Node.DisplayName).ToList(), group.Fold, group.FoldDescription, alphas[group],
                activationMax[group].Max() / Math.Max(Median(activationMax[group]), 1e-12f), scales);
            result.Groups.Add(record);
            context.Log.Information(string.Create(CultureInfo.InvariantCulture,
                $"alpha {alphas[group]:0.###}, activation channel max/median {record.ActivationOutlierRatio:0.0}: {group.Describe()}"));
            context.Progress.Report(new StageProgress("smooth", ++done, groups.Count));
        }

        result.Time = clock.Elapsed;
        context.Log.Information(string.Create(CultureInfo.InvariantCulture,
            $"smoothed {groups.Count} activations ({groups.Count(g => g.Fold == FoldKind.Producer)} folded into their producer, {groups.Count(g => g.Fold == FoldKind.InsertedMul)} with an inserted Mul) in {result.Time.TotalSeconds:0.00} s (statistics {result.StatisticsTime.TotalSeconds:0.00} s, search {result.SearchTime.TotalSeconds:0.00} s)"));
        return result;
    }

    private static void Search(IPassContext context, SmoothQuantOptions options, AlphaSearchOptions search, List<SmoothingGroup> groups,
        Dictionary<SmoothingGroup, float[]> activationMax, Dictionary<SmoothingGroup, float[]> weightMax, GraphIndex view,
        Dictionary<SmoothingGroup, double> alphas, SmoothQuantResult result)
    {
        var clock = Stopwatch.StartNew();
        var candidates = new List<double>();
        for (int i = 0; ; i++)
        {
            double a = Math.Round(search.AlphaMin + i * search.AlphaStep, 6);
            if (a > search.AlphaMax + 1e-9)
            {
                break;
            }

            candidates.Add(Math.Min(a, search.AlphaMax));
        }

        var spec = new QuantSpec(context.Device.Kernels.ActivationType == ElementType.UInt8, context.Device.Kernels.SymmetricActivations,
            context.Device.Kernels.PerChannelWeights && context.Weights.PerChannel, WeightQMax(context));
        IReadOnlyDictionary<string, DenseTensor> captured = context.CaptureActivations(groups.Select(g => g.Activation).Distinct().ToList(), search.Samples);
        var errors = new Dictionary<SmoothingGroup, double[]>();
        int done = 0;
        foreach (SmoothingGroup group in groups)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var groupClock = Stopwatch.StartNew();
            (float[] x, int rows) = Rows(captured[group.Activation], group.K, search.MaxRows);
            var block = new BlockError(x, rows, group.K, group.Linears.Select(l => (l.WeightKn(view), l.N)), spec);
            var e = new double[candidates.Count];
            for (int i = 0; i < candidates.Count; i++)
            {
                e[i] = block.Evaluate(Smoother.Scales(activationMax[group], weightMax[group], candidates[i], options.MinActivation));
            }

            errors[group] = e;
            result.SearchErrors[group.Activation] = (candidates.ToArray(), e, block.Evaluate(null));
            context.Log.Information(string.Create(CultureInfo.InvariantCulture,
                $"alpha search on {group.Activation} ({rows} rows × {group.K} channels, {group.Linears.Count} linears{block.SamplingNote}): {candidates.Count} candidates in {groupClock.Elapsed.TotalSeconds:0.00} s"));
            context.Progress.Report(new StageProgress("alpha search", ++done, groups.Count));
        }

        if (search.PerLayer)
        {
            foreach (SmoothingGroup group in groups)
            {
                alphas[group] = candidates[ArgMin(errors[group])];
            }
        }
        else
        {
            var total = new double[candidates.Count];
            foreach (double[] e in errors.Values)
            {
                for (int i = 0; i < total.Length; i++)
                {
                    total[i] += e[i];
                }
            }

            double best = candidates[ArgMin(total)];
            foreach (SmoothingGroup group in groups)
            {
                alphas[group] = best;
            }

            context.Log.Information(string.Create(CultureInfo.InvariantCulture,
                $"alpha search: {best:0.###} (summed relative block error {total[ArgMin(total)]:0.####}; at {candidates[0]:0.###}: {total[0]:0.####}, at {candidates[^1]:0.###}: {total[^1]:0.####})"));
        }

        result.SearchTime = clock.Elapsed;
    }

    /// <summary>Largest symmetric weight code the encoder will use: the device's grid at the target's bits (127, 63 with reduce-range, 7 at 4 bits).</summary>
    internal static int WeightQMax(IPassContext context) => WeightGrid.For(context.Device, Math.Clamp(context.Weights.Bits, 2, 8)).SymmetricMax;

    /// <summary>The captured activation as [rows, K] (all leading axes flattened), at most <paramref name="maxRows"/> rows, evenly strided.</summary>
    internal static (float[] X, int Rows) Rows(DenseTensor tensor, int k, int maxRows)
    {
        ReadOnlySpan<float> all = tensor.AsSpan<float>();
        int total = all.Length / k;
        int rows = Math.Min(total, maxRows);
        var x = new float[rows * k];
        for (int r = 0; r < rows; r++)
        {
            long source = (long)r * total / rows;
            all.Slice((int)(source * k), k).CopyTo(x.AsSpan(r * k, k));
        }

        return (x, rows);
    }

    private static int ArgMin(double[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] < values[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static float Median(float[] values)
    {
        float[] sorted = (float[])values.Clone();
        Array.Sort(sorted);
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5f * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }
}

/// <summary>What one run of the pass did.</summary>
internal sealed class SmoothQuantResult
{
    public List<GroupResult> Groups { get; } = new();

    /// <summary>Per activation: the alphas tried, the block error at each, and the error without smoothing.</summary>
    public Dictionary<string, (double[] Alphas, double[] Errors, double Unsmoothed)> SearchErrors { get; } = new(StringComparer.Ordinal);

    public TimeSpan Time { get; set; }

    public TimeSpan StatisticsTime { get; set; }

    public TimeSpan SearchTime { get; set; }
}

/// <summary>One smoothed activation.</summary>
internal sealed record GroupResult(string Activation, List<string> Linears, FoldKind Fold, string FoldDescription, double Alpha, double ActivationOutlierRatio, float[] Scales);
