using System.Diagnostics;
using System.Globalization;

namespace QuantBuild.Plugins.Nupes;

/// <summary>
/// One layer's result: the coding, the objective of uniform a = 1 and of the searched exponent before code
/// optimisation (on <see cref="SampledChannels"/> channels when the layer is large, else the whole layer), what the
/// bound did, and where the time went.
/// </summary>
internal sealed record LayerCodingResult(LayerQuantization Best, LayerQuantization Uniform, double UniformError, double SearchedError, int SampledChannels, string Note, double SearchSeconds, double CodesSeconds);

/// <summary>
/// The exponent search, the weight-error bound and the code optimisation for one layer. A small layer is searched and
/// optimised on all its channels. On a large one (a full score over H costs more than
/// <see cref="LayerQuantizer.ExactScoreLimit"/> multiply-adds: 4096 × 4096 is 32 times that) the exponent and the
/// ridge are chosen on evenly spaced channels, as many as half that budget scores, at least 64; every channel is then
/// coded at that exponent and optimised once at that ridge, and the bound is checked on the whole layer (the ridge
/// multiplied by 4, at most three times, while it is not met). Scoring ~40 exponents on every channel of a 4096-wide layer
/// is ~40 passes of out × in² (minutes); one exponent per layer is a property of the weights and H, which a sample of
/// channels estimates.
/// </summary>
internal static class LayerCoder
{
    /// <summary>Channels the search of a large layer uses at least.</summary>
    public const int MinSampledChannels = 64;

    /// <summary>Multiply-adds one candidate's score may take on a large layer (64 channels at 4096 inputs, 256 at 2048).</summary>
    public const long SearchScoreLimit = 1L << 30;

    /// <summary>
    /// Codes <paramref name="m"/>; <paramref name="largeAbove"/> and <paramref name="searchLimit"/> default to
    /// <see cref="LayerQuantizer.ExactScoreLimit"/> and <see cref="SearchScoreLimit"/> (tests lower them to run the
    /// sampled path on a small layer).
    /// </summary>
    public static LayerCodingResult Code(LayerMatrix m, ILayerObjective objective, NupesOptions options, double ratio,
        long largeAbove = LayerQuantizer.ExactScoreLimit, long searchLimit = SearchScoreLimit)
    {
        return objective is OutputError output && (long)m.Channels * m.Length * m.Length > largeAbove
            ? CodeSampled(m, output, options, ratio, SampleSize(m, searchLimit))
            : CodeExact(m, objective, options, ratio);
    }

    /// <summary>Channels a large layer's search scores: one <paramref name="searchLimit"/> worth, at least <see cref="MinSampledChannels"/>.</summary>
    public static int SampleSize(LayerMatrix m, long searchLimit = SearchScoreLimit) =>
        (int)Math.Min(m.Channels, Math.Max(MinSampledChannels, searchLimit / ((long)m.Length * m.Length)));

    private static LayerCodingResult CodeExact(LayerMatrix m, ILayerObjective objective, NupesOptions options, double ratio)
    {
        var clock = Stopwatch.StartNew();
        LayerQuantization uniform = LayerQuantizer.Quantize(m, options.Bits, 1.0, objective);
        double budget = objective is OutputError && ratio > 0 ? ratio * uniform.WeightSquaredError : double.PositiveInfinity;
        LayerQuantization best = LayerQuantizer.Search(m, options.Bits, options.Exponent, objective, weightBudget: budget);
        LayerQuantization searched = best;
        double searchSeconds = clock.Elapsed.TotalSeconds;
        string note = string.Empty;
        if (searched.WeightSquaredError > budget)
        {
            note = string.Create(CultureInfo.InvariantCulture, $"; no exponent reaches {ratio:0.###}× uniform's weight MSE: the least weight error kept, codes nearest");
            best = LayerQuantizer.OptimizeCodes(m, best, WeightError.Instance);
            best = best with { Error = LayerQuantizer.Score(m, best.Decoded, objective) };
        }
        else if (options.OptimizeCodes && objective is OutputError output && !double.IsPositiveInfinity(budget))
        {
            best = LayerQuantizer.OptimizeCodesWithinBudget(m, best, output, budget, out double ridge);
            note = RidgeNote(ridge, output.MeanDiagonal);
        }
        else if (options.OptimizeCodes)
        {
            best = LayerQuantizer.OptimizeCodes(m, best, objective);
        }

        return new LayerCodingResult(best, uniform, uniform.Error, searched.Error, m.Channels, note, searchSeconds, clock.Elapsed.TotalSeconds - searchSeconds);
    }

    private static LayerCodingResult CodeSampled(LayerMatrix m, OutputError output, NupesOptions options, double ratio, int sampleSize)
    {
        var clock = Stopwatch.StartNew();
        LayerMatrix sample = m.SampleChannels(sampleSize);
        LayerQuantization sampleUniform = LayerQuantizer.Quantize(sample, options.Bits, 1.0, output);
        double sampleBudget = ratio > 0 ? ratio * sampleUniform.WeightSquaredError : double.PositiveInfinity;
        LayerQuantization sampleBest = LayerQuantizer.Search(sample, options.Bits, options.Exponent, output, weightBudget: sampleBudget);
        double ridge = 0;
        if (options.OptimizeCodes && !double.IsPositiveInfinity(sampleBudget) && sampleBest.WeightSquaredError <= sampleBudget)
        {
            LayerQuantizer.OptimizeCodesWithinBudget(sample, sampleBest, output, sampleBudget, out ridge);
        }

        double searchSeconds = clock.Elapsed.TotalSeconds;
        LayerQuantization uniform = LayerQuantizer.Code(m, options.Bits, 1.0);
        LayerQuantization start = LayerQuantizer.Code(m, options.Bits, sampleBest.Exponent);
        double budget = ratio > 0 ? ratio * uniform.WeightSquaredError : double.PositiveInfinity;
        LayerQuantization best = start;
        string note = string.Empty;
        if (start.WeightSquaredError > budget)
        {
            note = string.Create(CultureInfo.InvariantCulture, $"; no exponent reaches {ratio:0.###}× uniform's weight MSE: the least weight error kept, codes nearest");
            best = LayerQuantizer.OptimizeCodes(m, start, WeightError.Instance) with { Error = double.NaN }; // the output error would be another pass over H
        }
        else if (options.OptimizeCodes && !double.IsNaN(ridge))
        {
            (best, ridge) = OptimizeAtRidge(m, start, output, budget, ridge);
            note = double.IsPositiveInfinity(budget) ? string.Empty : RidgeNote(ridge, output.MeanDiagonal);
        }
        else if (options.OptimizeCodes)
        {
            note = RidgeNote(double.NaN, output.MeanDiagonal);
        }

        return new LayerCodingResult(best, uniform, sampleUniform.Error, sampleBest.Error, sample.Channels, note, searchSeconds, clock.Elapsed.TotalSeconds - searchSeconds);
    }

    // One descent of the whole layer at the ridge the sample chose; while the whole layer's weight error is over the
    // bound, the ridge is multiplied by 4 (from 2^−6·mean(diag H) when it was 0), at most three times, each retry
    // reusing the start's H·d; then the start is kept. (Each descent of a 4096 × 4096 layer costs seconds, so the
    // steps are coarser than the sample's bisection.) The
    // result's Error is the plain output error dᵀHd; a result whose plain error is not below the start's is dropped.
    private static (LayerQuantization Result, double Ridge) OptimizeAtRidge(LayerMatrix m, LayerQuantization start, OutputError output, double budget, double ridge)
    {
        double unit = output.MeanDiagonal;
        float[] products = CodeDescent.StartProducts(m, output, start.Decoded);
        double startPlain = double.NaN;
        for (int attempt = 0; attempt < 4; attempt++)
        {
            LayerQuantization q = LayerQuantizer.OptimizeCodes(m, start, output.WithRidge(ridge), 4, tracked: true, out double plain, out startPlain, products);
            if (q.WeightSquaredError <= budget)
            {
                return plain < startPlain ? (q with { Error = plain }, ridge) : (start with { Error = startPlain }, double.NaN);
            }

            ridge = ridge == 0 ? unit * Math.Pow(2, -6) : ridge * 4;
        }

        return (start with { Error = startPlain }, double.NaN);
    }

    private static string RidgeNote(double ridge, double meanDiagonal) => ridge switch
    {
        0 => "; codes optimised freely within the weight-MSE bound",
        double.NaN => "; codes kept as searched (no ridge met the weight-MSE bound with a gain)",
        _ => string.Create(CultureInfo.InvariantCulture, $"; codes held to the weight-MSE bound by ridge {ridge / meanDiagonal:G3}·mean(diag H)"),
    };
}
