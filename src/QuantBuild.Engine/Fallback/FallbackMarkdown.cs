using System.Globalization;
using System.Net;
using System.Text;
using QuantBuild.Engine.Analysis;

namespace QuantBuild.Engine.Fallback;

/// <summary>The run report's sections for <c>fallback: auto</c> and the kernel check, in Markdown and HTML.</summary>
public static class FallbackMarkdown
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>A target's fallback and kernel sections as Markdown (empty when neither ran).</summary>
    /// <param name="fallback">What fallback: auto did, or null.</param>
    /// <param name="kernels">The kernel check, or null.</param>
    public static string Sections(FallbackReport? fallback, KernelCheckResult? kernels)
    {
        var md = new StringBuilder();
        if (fallback is { } f)
        {
            md.AppendLine("### fallback: auto").AppendLine().AppendLine(f.Summary).AppendLine();
            md.AppendLine("| layer | op | weights | recipe | fallback | gain alone | final |").AppendLine("| --- | --- | ---: | --- | --- | ---: | --- |");
            foreach (FallbackLayer l in f.Layers)
            {
                md.AppendLine($"| {l.Node} | {l.OpType} | {l.Weights} | {l.Recipe} | {l.Higher} | {(l.Gain is double g ? N(g) : "not measured")} | {(f.Kept.Contains(l.Node) ? "**" + l.Final + "**" : l.Final)} |");
            }

            md.AppendLine().AppendLine("| trial | step | layer | metric | gate | bits/weight | bytes | why |").AppendLine("| ---: | --- | --- | ---: | --- | ---: | ---: | --- |");
            foreach (FallbackStep s in f.Steps)
            {
                md.AppendLine($"| {(s.Trial == 0 ? "-" : s.Trial.ToString(Invariant))} | {s.Action} | {s.Layer} ({s.Precision}) | {N(s.Value)} | {(s.Passed ? "pass" : "fail")} | {N(s.BitsPerWeight)} | {s.Bytes} | {s.Why} |");
            }

            md.AppendLine();
        }

        if (kernels is { } k)
        {
            md.AppendLine(Kernels(k)).AppendLine();
        }

        return md.ToString();
    }

    /// <summary>The same sections as HTML.</summary>
    /// <param name="fallback">What fallback: auto did, or null.</param>
    /// <param name="kernels">The kernel check, or null.</param>
    public static string Html(FallbackReport? fallback, KernelCheckResult? kernels)
    {
        var html = new StringBuilder();
        if (fallback is { } f)
        {
            html.AppendLine($"<h3>fallback: auto</h3><p>{E(f.Summary)}</p><table><tr><th>trial</th><th>step</th><th>layer</th><th>metric</th><th>gate</th><th>bits/weight</th><th>why</th></tr>");
            foreach (FallbackStep s in f.Steps)
            {
                html.AppendLine($"<tr><td class=\"n\">{(s.Trial == 0 ? "-" : s.Trial.ToString(Invariant))}</td><td>{E(s.Action)}</td><td>{E(s.Layer ?? string.Empty)} ({E(s.Precision ?? string.Empty)})</td>" +
                    $"<td class=\"n\">{E(N(s.Value))}</td><td class=\"{(s.Passed ? "pass" : "fail")}\">{(s.Passed ? "pass" : "fail")}</td><td class=\"n\">{E(N(s.BitsPerWeight))}</td><td>{E(s.Why)}</td></tr>");
            }

            html.AppendLine("</table>");
        }

        if (kernels is { } k)
        {
            html.AppendLine($"<p>{E(Kernels(k))}</p>");
        }

        return html.ToString();
    }

    private static string Kernels(KernelCheckResult k) =>
        $"Kernel check ({k.Batches} batches of {k.BatchSize}): fp32 {k.Fp32Milliseconds.ToString("0.00", Invariant)} ms, quantized {k.QuantizedMilliseconds.ToString("0.00", Invariant)} ms per batch " +
        $"({k.Speedup.ToString("0.00", Invariant)}×{(k.Faster ? string.Empty : ", not faster")}); " +
        (k.UnfusedNodes.Count == 0 ? "every quantized Conv/MatMul/Gemm ran as an integer kernel." : "not fused: " + string.Join(", ", k.UnfusedNodes.Select(u => $"{u.Node} ({u.OpType})")) + ".");

    private static string N(double v) => double.IsNaN(v) ? "-" : v.ToString("0.00##", Invariant);

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
