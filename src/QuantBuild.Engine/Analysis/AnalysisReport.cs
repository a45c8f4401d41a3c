using System.Globalization;
using System.Net;
using System.Text;
using QuantBuild.Engine.Evaluation;

namespace QuantBuild.Engine.Analysis;

/// <summary>
/// The analysis report in Markdown and self-contained HTML: per target, the layers worst first with why (outliers,
/// ranges) and what each costs, the precision ladder as a chart, and the kernel check.
/// </summary>
public static class AnalysisReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The report as Markdown.</summary>
    public static string Markdown(AnalysisResult result)
    {
        var md = new StringBuilder();
        md.AppendLine("# QuantBuild analysis").AppendLine();
        md.AppendLine($"- Model: `{result.ModelPath}`").AppendLine($"- Config: `{result.ConfigPath}`").AppendLine();
        foreach (TargetAnalysis t in result.Targets)
        {
            md.Append(TargetMarkdown(t));
        }

        return md.ToString();
    }

    /// <summary>One target's section as Markdown (also used inside the run report).</summary>
    public static string TargetMarkdown(TargetAnalysis t)
    {
        var md = new StringBuilder();
        md.AppendLine($"## {t.Target} ({t.Device}, {t.WeightBits}-bit weights)").AppendLine();
        md.AppendLine($"{t.Metric} on {t.TrialSamples} samples: fp32 {V(t.Fp32Value, t.Unit)}, all layers quantized {V(t.AllQuantized.Value, t.Unit)} " +
            $"(drop {N(t.AllQuantized.Drop)}, output SQNR {Db(t.AllQuantized.SqnrDb)} dB, gate {(t.AllQuantized.Passed ? "passes" : "fails")}). " +
            $"{t.Trials} trials, calibration once on {t.CalibrationSamples} samples, {t.Seconds.ToString("0.0", Invariant)} s.").AppendLine();
        md.AppendLine(Verdict(t)).AppendLine();
        md.AppendLine("| # | layer | op | only this quantized: drop | SQNR dB | all but this: drop | SQNR dB | weight range | weight outlier worst (ch) / median | act. range | act. outlier |");
        md.AppendLine("| ---: | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: |");
        foreach (LayerAnalysis l in t.Layers)
        {
            md.AppendLine($"| {l.Rank} | {l.Node} | {l.OpType} | {N(l.OnlyQuantized.Drop)} | {Db(l.OnlyQuantized.SqnrDb)} | {N(l.LeftFp32.Drop)} | {Db(l.LeftFp32.SqnrDb)} | " +
                $"[{N(l.WeightMin)}, {N(l.WeightMax)}] | {R(l.WeightWorstRatio)} ({l.WeightWorstChannel}) / {R(l.WeightMedianRatio)} | [{N(l.ActivationMin)}, {N(l.ActivationMax)}] | {R(l.ActivationRatio)} |");
        }

        md.AppendLine().AppendLine("Outlier ratio = max|x| / percentile-99.9 of |x| (weights per output channel; activations over the calibration set). " +
            "Above ~4 the int8 grid spends most of its levels on a few values.").AppendLine();
        if (t.Ladder.Count > 0)
        {
            md.AppendLine("Precision ladder (every float weight rounded to m mantissa bits, activations fp32):").AppendLine();
            md.AppendLine("| mantissa bits | " + string.Join(" | ", t.Ladder.Select(p => p.MantissaBits.ToString(Invariant))) + " |");
            md.AppendLine("| --- |" + string.Concat(t.Ladder.Select(_ => " ---: |")));
            md.AppendLine($"| {t.Metric} | " + string.Join(" | ", t.Ladder.Select(p => N(p.Value))) + " |");
            md.AppendLine("| SQNR dB | " + string.Join(" | ", t.Ladder.Select(p => Db(p.SqnrDb))) + " |").AppendLine();
            md.AppendLine(LadderSummary(t)).AppendLine();
        }

        if (t.Kernels is { } k)
        {
            md.AppendLine($"Kernel check ({k.Batches} batches of {k.BatchSize}, same settings): fp32 {k.Fp32Milliseconds:0.00} ms, quantized {k.QuantizedMilliseconds:0.00} ms per batch, " +
                $"speed-up {k.Speedup.ToString("0.00", Invariant)}×; {(k.UnfusedNodes.Count == 0 ? "every quantized Conv/MatMul/Gemm ran as an integer kernel" : $"{k.UnfusedNodes.Count} not fused: {string.Join(", ", k.UnfusedNodes.Select(u => $"{u.Node} ({u.OpType})"))}")}.".Replace(',', ',')).AppendLine();
        }

        foreach (string note in t.Notes)
        {
            md.AppendLine($"- {note}");
        }

        md.AppendLine();
        Reports.FloatNodeTable.Markdown(md, t.FloatNodes);
        return md.AppendLine().ToString();
    }

    /// <summary>The report as HTML, with the ladder drawn as an SVG line chart.</summary>
    public static string Html(AnalysisResult result)
    {
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>QuantBuild analysis</title>");
        html.AppendLine("<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}" +
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}td.n{text-align:right}.bad{color:#b3261e}svg text{font-size:11px;font-family:system-ui,sans-serif}</style></head><body>");
        html.AppendLine($"<h1>QuantBuild analysis</h1><p>Model <code>{E(result.ModelPath)}</code> · config <code>{E(result.ConfigPath)}</code></p>");
        foreach (TargetAnalysis t in result.Targets)
        {
            html.AppendLine($"<h2>{E(t.Target)} ({E(t.Device)}, {t.WeightBits}-bit weights)</h2>");
            html.AppendLine($"<p>{E(t.Metric)} on {t.TrialSamples} samples: fp32 {E(V(t.Fp32Value, t.Unit))}, all quantized {E(V(t.AllQuantized.Value, t.Unit))} " +
                $"(output SQNR {E(Db(t.AllQuantized.SqnrDb))} dB). {E(Verdict(t))}</p>");
            html.AppendLine("<table><tr><th>#</th><th>layer</th><th>op</th><th>only this quantized: drop</th><th>SQNR dB</th><th>all but this: drop</th><th>SQNR dB</th>" +
                "<th>weight range</th><th>weight outlier worst (ch) / median</th><th>activation range</th><th>activation outlier</th></tr>");
            foreach (LayerAnalysis l in t.Layers)
            {
                string css = l.OnlyQuantized.Drop > 0 ? " class=\"n bad\"" : " class=\"n\"";
                html.AppendLine($"<tr><td class=\"n\">{l.Rank}</td><td>{E(l.Node)}</td><td>{E(l.OpType)}</td><td{css}>{E(N(l.OnlyQuantized.Drop))}</td><td class=\"n\">{E(Db(l.OnlyQuantized.SqnrDb))}</td>" +
                    $"<td class=\"n\">{E(N(l.LeftFp32.Drop))}</td><td class=\"n\">{E(Db(l.LeftFp32.SqnrDb))}</td><td>[{E(N(l.WeightMin))}, {E(N(l.WeightMax))}]</td>" +
                    $"<td class=\"n\">{E(R(l.WeightWorstRatio))} ({l.WeightWorstChannel}) / {E(R(l.WeightMedianRatio))}</td><td>[{E(N(l.ActivationMin))}, {E(N(l.ActivationMax))}]</td><td class=\"n\">{E(R(l.ActivationRatio))}</td></tr>");
            }

            html.AppendLine("</table>");
            if (t.Ladder.Count > 0)
            {
                html.AppendLine($"<h3>Precision ladder</h3><p>{E(LadderSummary(t))}</p>").AppendLine(LadderChart(t));
            }

            if (t.Kernels is { } k)
            {
                html.AppendLine($"<h3>Kernel check</h3><p>fp32 {k.Fp32Milliseconds.ToString("0.00", Invariant)} ms, quantized {k.QuantizedMilliseconds.ToString("0.00", Invariant)} ms per batch of {k.BatchSize} " +
                    $"(speed-up {k.Speedup.ToString("0.00", Invariant)}×). Not fused: {(k.UnfusedNodes.Count == 0 ? "none" : E(string.Join(", ", k.UnfusedNodes.Select(u => $"{u.Node} ({u.OpType})"))))}.</p>");
            }

            if (t.Notes.Count > 0)
            {
                html.AppendLine("<ul>" + string.Concat(t.Notes.Select(n => $"<li>{E(n)}</li>")) + "</ul>");
            }

            Reports.FloatNodeTable.Html(html, t.FloatNodes);
        }

        return html.AppendLine("</body></html>").ToString();
    }

    /// <summary>One sentence: where accuracy goes, naming the worst layer and its likely cause.</summary>
    public static string Verdict(TargetAnalysis t)
    {
        if (t.Layers.Count == 0)
        {
            return "No layer was analysed.";
        }

        LayerAnalysis worst = t.Layers[0];
        string cause = worst.WeightWorstRatio >= 4 && worst.WeightWorstRatio >= worst.ActivationRatio
            ? $"its weights have outliers (channel {worst.WeightWorstChannel}: max/p99.9 = {R(worst.WeightWorstRatio)})"
            : worst.ActivationRatio >= 4
                ? $"its input activation has outliers (max/p99.9 = {R(worst.ActivationRatio)})"
                : "no single outlier stands out: the error is spread over its grid";
        return $"Worst layer: {worst.Node} ({worst.OpType}) — quantized alone it drops {t.Metric} by {N(worst.OnlyQuantized.Drop)} (output SQNR {Db(worst.OnlyQuantized.SqnrDb)} dB); " +
            $"keeping it in fp32 leaves a drop of {N(worst.LeftFp32.Drop)} instead of {N(t.AllQuantized.Drop)}; {cause}.";
    }

    private static string LadderSummary(TargetAnalysis t)
    {
        // The fewest mantissa bits at which the metric still stays within the gate's reach of fp32 (drop ≤ 0).
        LadderPoint? lowest = t.Ladder.Where(p => p.Drop <= 0).OrderBy(p => p.MantissaBits).FirstOrDefault();
        bool contiguous = lowest is not null && t.Ladder.Where(p => p.MantissaBits >= lowest.MantissaBits).All(p => p.Drop <= 0);
        return lowest is null
            ? "Even fp32 rounding changes the metric: the model is fragile."
            : $"The metric stays at fp32's value down to {lowest.MantissaBits} mantissa bits{(contiguous ? string.Empty : " (not monotonically)")}; " +
              "a model that tolerates few bits is forgiving of weight rounding, so weight quantization is unlikely to be what costs accuracy.";
    }

    private static string LadderChart(TargetAnalysis t)
    {
        const int W = 640, H = 240, L = 60, B = 30, T = 10;
        double min = t.Ladder.Where(p => double.IsFinite(p.Value)).Select(p => p.Value).DefaultIfEmpty(0).Min();
        double max = t.Ladder.Where(p => double.IsFinite(p.Value)).Select(p => p.Value).DefaultIfEmpty(1).Max();
        if (max - min < 1e-9)
        {
            max = min + 1;
        }

        double X(int m) => L + (23 - m) / 22.0 * (W - L - 10);
        double Y(double v) => T + (max - v) / (max - min) * (H - T - B);
        var svg = new StringBuilder();
        svg.Append(Invariant, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"precision ladder\">");
        svg.Append(Invariant, $"<line x1=\"{L}\" y1=\"{H - B}\" x2=\"{W - 10}\" y2=\"{H - B}\" stroke=\"#888\"/><line x1=\"{L}\" y1=\"{T}\" x2=\"{L}\" y2=\"{H - B}\" stroke=\"#888\"/>");
        svg.Append(Invariant, $"<text x=\"{L - 4}\" y=\"{Y(max) + 4:0.0}\" text-anchor=\"end\">{E(N(max))}</text><text x=\"{L - 4}\" y=\"{Y(min) + 4:0.0}\" text-anchor=\"end\">{E(N(min))}</text>");
        svg.Append(Invariant, $"<line x1=\"{L}\" y1=\"{Y(t.Fp32Value):0.0}\" x2=\"{W - 10}\" y2=\"{Y(t.Fp32Value):0.0}\" stroke=\"#2e7d32\" stroke-dasharray=\"4 3\"/>");
        var points = string.Join(" ", t.Ladder.Where(p => double.IsFinite(p.Value)).Select(p => $"{X(p.MantissaBits).ToString("0.0", Invariant)},{Y(p.Value).ToString("0.0", Invariant)}"));
        svg.Append(Invariant, $"<polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\" points=\"{points}\"/>");
        foreach (LadderPoint p in t.Ladder)
        {
            svg.Append(Invariant, $"<text x=\"{X(p.MantissaBits):0.0}\" y=\"{H - B + 14}\" text-anchor=\"middle\">{p.MantissaBits}</text>");
        }

        svg.Append(Invariant, $"<text x=\"{(L + W) / 2}\" y=\"{H - 2}\" text-anchor=\"middle\">mantissa bits kept ({E(t.Metric)}; dashed: fp32)</text>");
        return svg.Append("</svg>").ToString();
    }

    private static string V(double v, string unit) => AccuracyGate.Format(v, unit);

    private static string N(double v) => double.IsNaN(v) ? "-" : double.IsPositiveInfinity(v) ? "∞" : v.ToString("0.00##", Invariant);

    private static string R(double v) => double.IsNaN(v) ? "-" : double.IsPositiveInfinity(v) ? "∞" : v.ToString("0.00", Invariant);

    private static string Db(double v) => double.IsPositiveInfinity(v) ? "∞" : v.ToString("0.0", Invariant);

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
