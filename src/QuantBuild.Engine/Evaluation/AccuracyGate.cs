using System.Globalization;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Evaluation;

/// <summary>
/// Decides whether a quantized model may ship: it fails when the metric drops more than <c>max_drop</c> below
/// fp32 on the same data (absolute units, or percent of the fp32 value when relative), or misses the absolute
/// bound <c>min</c> (a floor for higher-is-better metrics, a ceiling for error metrics).
/// </summary>
public static class AccuracyGate
{
    // Metrics are sums of float products; a drop this small is rounding, not accuracy.
    private const double Tolerance = 1e-9;

    /// <summary>Applies <paramref name="gate"/> to the two metric values.</summary>
    public static GateVerdict Evaluate(IMetric metric, double fp32, double quantized, GateConfig? gate)
    {
        double drop = metric.HigherIsBetter ? fp32 - quantized : quantized - fp32;
        if (double.IsNaN(drop) && double.IsInfinity(fp32) && double.IsInfinity(quantized))
        {
            drop = 0;
        }

        string numbers = $"{metric.Name} fp32 {Format(fp32, metric.Unit)}, quantized {Format(quantized, metric.Unit)}";
        if (double.IsNaN(quantized))
        {
            return new GateVerdict(false, metric.Name, metric.Unit, fp32, quantized, drop, $"{numbers}: the quantized model produced NaN");
        }

        if (double.IsNaN(fp32) || (metric.NeedsLabels && fp32 <= 0))
        {
            // A baseline that scores nothing (all-NaN outputs, 0 % on the labels) cannot vouch for any model.
            return new GateVerdict(false, metric.Name, metric.Unit, fp32, quantized, drop,
                $"{numbers}: the fp32 baseline is degenerate, so nothing can be judged against it; check that the labels and the evaluation data's preprocessing match the model");
        }

        if (gate is { MaxDrop: not null, Min: null } && !double.IsFinite(fp32))
        {
            // sqnr of fp32 against itself is ∞: a drop from it is always ∞ or undefined, so a max_drop-only gate would
            // pass anything (a 5.8 dB model once shipped). Validation refuses max_drop for sqnr; this guards callers
            // that build a GateConfig themselves. With a floor, the floor alone decides, below.
            return new GateVerdict(false, metric.Name, metric.Unit, fp32, quantized, drop,
                $"{numbers}: max_drop cannot be checked against an fp32 value of {Number(fp32)}; use min instead");
        }

        if (gate?.MaxDrop is double maxDrop && double.IsFinite(fp32))
        {
            double allowed = gate.MaxDropIsRelative ? Math.Abs(fp32) * maxDrop / 100 : maxDrop;
            string bound = gate.MaxDropIsRelative ? $"{Number(maxDrop)}% of fp32 ({Number(allowed)})" : Number(maxDrop);
            if (drop > allowed + Tolerance)
            {
                return new GateVerdict(false, metric.Name, metric.Unit, fp32, quantized, drop,
                    $"{numbers}: dropped {Number(drop)}, more than max_drop {bound}") { FailedSetting = "max_drop" };
            }
        }

        if (gate?.Min is double min)
        {
            bool missed = metric.HigherIsBetter ? quantized < min - Tolerance : quantized > min + Tolerance;
            if (missed)
            {
                string relation = metric.HigherIsBetter ? "below the floor" : "above the ceiling";
                return new GateVerdict(false, metric.Name, metric.Unit, fp32, quantized, drop,
                    $"{numbers}: {Format(quantized, metric.Unit)} is {relation} min {Format(min, metric.Unit)}") { FailedSetting = "min" };
            }
        }

        return new GateVerdict(true, metric.Name, metric.Unit, fp32, quantized, drop, $"{numbers}: drop {Number(drop)}, within the gate");
    }

    /// <summary>A metric value with its unit, two decimals.</summary>
    public static string Format(double value, string unit) =>
        Number(value) + (unit.Length == 0 ? string.Empty : unit == "%" ? " %" : " " + unit);

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "∞" : double.IsNegativeInfinity(value) ? "-∞" : value.ToString("0.00##", CultureInfo.InvariantCulture);
}
