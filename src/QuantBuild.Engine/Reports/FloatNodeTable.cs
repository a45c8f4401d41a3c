using System.Net;
using System.Text;
using QuantBuild.Engine.Results;

namespace QuantBuild.Engine.Reports;

/// <summary>The "Left in fp32" table of the run report and the analysis report: every node kept in fp32, and why.</summary>
internal static class FloatNodeTable
{
    /// <summary>The heading line and, when there are any, a Markdown table of the nodes.</summary>
    public static StringBuilder Markdown(StringBuilder md, IReadOnlyList<FloatNode> nodes)
    {
        md.AppendLine(nodes.Count == 0 ? "Every node of a quantizable kind runs in integer." : $"Left in fp32 ({nodes.Count}):");
        if (nodes.Count > 0)
        {
            md.AppendLine().AppendLine("| node | op | why |").AppendLine("| --- | --- | --- |");
            foreach (FloatNode n in nodes)
            {
                md.AppendLine($"| {n.Node} | {n.OpType} | {n.Reason} |");
            }
        }

        return md;
    }

    /// <summary>A heading and an HTML table of the nodes; nothing when there are none.</summary>
    public static StringBuilder Html(StringBuilder html, IReadOnlyList<FloatNode> nodes)
    {
        if (nodes.Count > 0)
        {
            html.AppendLine($"<h3>Left in fp32 ({nodes.Count})</h3><table><tr><th>node</th><th>op</th><th>why</th></tr>");
            foreach (FloatNode n in nodes)
            {
                html.AppendLine($"<tr><td>{E(n.Node)}</td><td>{E(n.OpType)}</td><td>{E(n.Reason)}</td></tr>");
            }

            html.AppendLine("</table>");
        }

        return html;
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
