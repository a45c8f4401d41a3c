using System.Globalization;
using System.Net;
using System.Text;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Results;

namespace QuantBuild.Engine.Reports;

/// <summary>
/// The per-run report, in Markdown (for PRs and CI summaries) and self-contained HTML (with the per-layer error
/// chart): one screen that says what shipped, what it scored, and where accuracy went.
/// </summary>
public static class RunReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The report as Markdown.</summary>
    public static string Markdown(RunResult run)
    {
        var md = new StringBuilder();
        md.AppendLine("# QuantBuild report").AppendLine();
        md.AppendLine($"- Model: `{run.ModelPath}` (sha256 `{run.ModelSha256[..16]}…`)");
        md.AppendLine($"- Config: `{run.ConfigPath}`");
        md.AppendLine($"- QuantBuild {run.ToolVersion}, {run.TotalSeconds.ToString("0.0", Invariant)} s").AppendLine();
        md.AppendLine("| target | device | verdict | metric | fp32 | quantized | agreement | output SQNR | size | stages |");
        md.AppendLine("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (TargetResult t in run.Targets)
        {
            md.AppendLine($"| {t.Name} | {t.Device} | {Verdict(t)} | {t.Metric ?? "-"} | {Value(t.Fp32Value, t.Unit)} | {Value(t.QuantizedValue, t.Unit)} | " +
                $"{Value(t.Agreement, "%")} | {Value(t.OutputSqnrDb, "dB")} | {Size(t)} | {Stages(t)} |");
        }

        foreach (TargetResult t in run.Targets)
        {
            md.AppendLine().AppendLine($"## {t.Name}").AppendLine();
            if (t.Error is not null)
            {
                md.AppendLine($"> {t.Error}").AppendLine();
            }
            else if (t.GateMessage is not null)
            {
                md.AppendLine($"Gate: {t.GateMessage}.").AppendLine();
            }

            if (t.OutputPath is not null || t.RejectedPath is not null)
            {
                md.AppendLine($"Model: `{t.OutputPath ?? t.RejectedPath}`{(t.RejectedPath is not null ? " (rejected: not shipped)" : string.Empty)}").AppendLine();
            }

            md.Append(Fallback.FallbackMarkdown.Sections(t.Fallback, t.Kernels));
            if (t.Layers.Count > 0)
            {
                md.AppendLine("Per-layer output SQNR against fp32, worst first:").AppendLine();
                md.AppendLine("| layer | op | SQNR (dB) |").AppendLine("| --- | --- | ---: |");
                foreach (LayerError layer in t.Layers)
                {
                    md.AppendLine($"| {layer.Node} | {layer.OpType} | {Db(layer.SqnrDb)} |");
                }

                md.AppendLine();
            }

            if (t.DynamicLayers.Count > 0)
            {
                md.AppendLine($"Activations quantized at run time ({t.DynamicLayers.Count}, no calibrated range): {string.Join(", ", t.DynamicLayers)}.").AppendLine();
            }

            FloatNodeTable.Markdown(md, t.FloatNodes);
        }

        return md.ToString();
    }

    /// <summary>The report as one self-contained HTML page with an SVG bar chart per target.</summary>
    public static string Html(RunResult run)
    {
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>QuantBuild report</title>");
        html.AppendLine("<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}" +
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}td.n{text-align:right}.pass{color:#14713a}.fail{color:#b3261e}" +
            "svg text{font-size:11px;font-family:system-ui,sans-serif}</style></head><body>");
        html.AppendLine("<h1>QuantBuild report</h1>");
        html.AppendLine($"<p>Model <code>{E(run.ModelPath)}</code> · config <code>{E(run.ConfigPath)}</code> · QuantBuild {E(run.ToolVersion)} · {run.TotalSeconds.ToString("0.0", Invariant)} s</p>");
        html.AppendLine("<table><tr><th>target</th><th>device</th><th>verdict</th><th>metric</th><th>fp32</th><th>quantized</th><th>agreement</th><th>output SQNR</th><th>size</th><th>stages</th></tr>");
        foreach (TargetResult t in run.Targets)
        {
            string css = t.Status == TargetStatus.Passed ? "pass" : "fail";
            html.AppendLine($"<tr><td>{E(t.Name)}</td><td>{E(t.Device)}</td><td class=\"{css}\">{E(Verdict(t))}</td><td>{E(t.Metric ?? "-")}</td>" +
                $"<td class=\"n\">{E(Value(t.Fp32Value, t.Unit))}</td><td class=\"n\">{E(Value(t.QuantizedValue, t.Unit))}</td>" +
                $"<td class=\"n\">{E(Value(t.Agreement, "%"))}</td><td class=\"n\">{E(Value(t.OutputSqnrDb, "dB"))}</td><td class=\"n\">{E(Size(t))}</td><td>{E(Stages(t))}</td></tr>");
        }

        html.AppendLine("</table>");
        foreach (TargetResult t in run.Targets)
        {
            html.AppendLine($"<h2>{E(t.Name)}</h2>");
            if (t.Error is not null)
            {
                html.AppendLine($"<p class=\"fail\">{E(t.Error)}</p>");
            }
            else if (t.GateMessage is not null)
            {
                html.AppendLine($"<p>Gate: {E(t.GateMessage)}.</p>");
            }

            if (t.OutputPath is not null || t.RejectedPath is not null)
            {
                html.AppendLine($"<p>Model <code>{E(t.OutputPath ?? t.RejectedPath!)}</code>{(t.RejectedPath is not null ? " (rejected: not shipped)" : string.Empty)}</p>");
            }

            html.Append(Fallback.FallbackMarkdown.Html(t.Fallback, t.Kernels));
            if (t.Layers.Count > 0)
            {
                html.AppendLine("<h3>Per-layer output SQNR against fp32 (dB), worst first</h3>");
                html.AppendLine(Chart(t.Layers));
            }

            if (t.DynamicLayers.Count > 0)
            {
                html.AppendLine($"<h3>Activations quantized at run time ({t.DynamicLayers.Count})</h3><p>{E(string.Join(", ", t.DynamicLayers))}</p>");
            }

            FloatNodeTable.Html(html, t.FloatNodes);
        }

        html.AppendLine("</body></html>");
        return html.ToString();
    }

    private static string Chart(IReadOnlyList<LayerError> layers)
    {
        // Horizontal bars, one per layer; finite values scale to the largest, +∞ (exact) draws full width, a layer no
        // probed sample ran draws none.
        const int Label = 320, Width = 420, Row = 18;
        double max = layers.Where(l => l.SqnrDb is double v && double.IsFinite(v)).Select(l => Math.Max(l.SqnrDb!.Value, 0)).DefaultIfEmpty(1).Max();
        max = Math.Max(max, 1);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Label + Width + 80}\" height=\"{layers.Count * Row + 10}\" role=\"img\" aria-label=\"per-layer SQNR\">");
        for (int i = 0; i < layers.Count; i++)
        {
            LayerError l = layers[i];
            double w = l.SqnrDb is not double db ? 0 : double.IsFinite(db) ? Math.Max(db, 0) / max * Width : Width;
            int y = i * Row + 5;
            string colour = l.SqnrDb is null ? "#9e9e9e" : l.SqnrDb < 20 ? "#b3261e" : l.SqnrDb < 30 ? "#e0a100" : "#2e7d32";
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Label - 6}\" y=\"{y + 12}\" text-anchor=\"end\">{E(l.Node)} ({E(l.OpType)})</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Label}\" y=\"{y + 2}\" width=\"{w:0.0}\" height=\"{Row - 5}\" fill=\"{colour}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Label + w + 4:0.0}\" y=\"{y + 12}\">{E(Db(l.SqnrDb))}</text>");
        }

        return svg.Append("</svg>").ToString();
    }

    private static string Verdict(TargetResult t) => t.Status switch
    {
        TargetStatus.Passed => t.Metric is null ? "written (not evaluated)" : "passed",
        TargetStatus.GateFailed => "gate failed",
        _ => $"error {t.ErrorCode}",
    };

    private static string Value(double? value, string? unit) => value is double v ? AccuracyGate.Format(v, unit ?? string.Empty) : "-";

    private static string Db(double? v) => v is not double db ? "not run by the probed samples" : double.IsPositiveInfinity(db) ? "∞" : db.ToString("0.0", Invariant);

    private static string Size(TargetResult t) => t.QuantizedBytes is long q
        ? $"{q / 1024.0:0.0} KB ({100.0 * q / Math.Max(t.Fp32Bytes, 1):0.0}% of fp32)".Replace(',', '.')
        : "-";

    // A cache hit ran only the lookup; the stage times of the run that stored it are shown as that run's.
    private static string Stages(TargetResult t)
    {
        string Join(IEnumerable<StageTiming> stages) => string.Join(", ", stages.Select(s => $"{s.Stage} {s.Seconds.ToString("0.00", Invariant)}s"));
        if (t.RecordedStages is not { } recorded)
        {
            return Join(t.Stages);
        }

        return $"{Join(t.Stages)} (from the cache; the run that stored it: {Join(recorded)})";
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
