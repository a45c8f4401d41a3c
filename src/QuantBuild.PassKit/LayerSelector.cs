using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;

namespace QuantBuild.PassKit;

/// <summary>
/// Which nodes a pass works on, from the include and exclude lists of its options. An entry is an op type the pass
/// handles, a node name, or a pattern over node names with <c>*</c> (any run of characters) and <c>?</c> (one).
/// An entry that names nothing in the model is an error (<see cref="Check"/>): a typo would otherwise leave every
/// layer untouched without a word.
/// </summary>
public sealed class LayerSelector
{
    private readonly HashSet<string> _opTypes;
    private readonly HashSet<string> _implicitOpTypes;
    private readonly string[] _include;
    private readonly string[] _exclude;

    /// <param name="opTypes">The op types the pass handles.</param>
    /// <param name="include">Entries to work on; empty for every node of <paramref name="implicitOpTypes"/>.</param>
    /// <param name="exclude">Entries to leave alone, whatever <paramref name="include"/> says.</param>
    /// <param name="implicitOpTypes">What an empty <paramref name="include"/> selects; null for all of <paramref name="opTypes"/>.</param>
    public LayerSelector(IEnumerable<string> opTypes, IEnumerable<string>? include = null, IEnumerable<string>? exclude = null, IEnumerable<string>? implicitOpTypes = null)
    {
        ArgumentNullException.ThrowIfNull(opTypes);
        _opTypes = new HashSet<string>(opTypes, StringComparer.Ordinal);
        _implicitOpTypes = implicitOpTypes is null ? _opTypes : new HashSet<string>(implicitOpTypes, StringComparer.Ordinal);
        _include = include?.ToArray() ?? [];
        _exclude = exclude?.ToArray() ?? [];
    }

    /// <summary>True when <paramref name="node"/> is a default-domain node of a handled op type that the lists select.</summary>
    public bool Selects(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!node.IsDefaultDomain || !_opTypes.Contains(node.OpType))
        {
            return false;
        }

        bool included = _include.Length == 0 ? _implicitOpTypes.Contains(node.OpType) : Array.Exists(_include, e => Matches(e, node));
        return included && !Array.Exists(_exclude, e => Matches(e, node));
    }

    /// <summary>
    /// Throws <see cref="QuantBuildException"/> with <paramref name="code"/> when an entry of either list names no node
    /// of <paramref name="graph"/> and no handled op type; the message quotes those entries and the fix lists node
    /// names to choose from.
    /// </summary>
    /// <param name="graph">The model's main graph.</param>
    /// <param name="pass">The pass name, which starts the message.</param>
    /// <param name="code">The pass's QB code for this error.</param>
    /// <param name="includeOption">The include list's yaml key.</param>
    /// <param name="excludeOption">The exclude list's yaml key.</param>
    public void Check(Graph graph, string pass, string code, string includeOption = "layers", string excludeOption = "exclude")
    {
        ArgumentNullException.ThrowIfNull(graph);
        var problems = new List<string>();
        foreach ((string option, string[] entries) in new[] { (includeOption, _include), (excludeOption, _exclude) })
        {
            string[] unknown = entries.Where(e => !_opTypes.Contains(e) && !graph.Nodes.Any(n => NameMatches(e, n))).ToArray();
            if (unknown.Length > 0)
            {
                problems.Add($"{option} names {string.Join(", ", unknown.Select(u => $"'{u}'"))}");
            }
        }

        if (problems.Count == 0)
        {
            return;
        }

        string ops = string.Join(", ", _opTypes.Order(StringComparer.Ordinal));
        List<string> examples = graph.Nodes.Where(n => n.IsDefaultDomain && _opTypes.Contains(n.OpType) && n.Name is { Length: > 0 }).Select(n => n.Name!).ToList();
        throw new QuantBuildException(code,
            $"{pass}: {string.Join("; ", problems)}, which is neither a node of the model nor one of {ops}.",
            $"use node names as `quantbuild inspect` lists them ({string.Join(", ", examples.Take(6))}{(examples.Count > 6 ? ", …" : string.Empty)}), patterns with * and ?, or op types");
    }

    private bool Matches(string entry, Node node) => (_opTypes.Contains(entry) && node.OpType == entry) || NameMatches(entry, node);

    private static bool NameMatches(string entry, Node node) =>
        node.Name is { } name && (entry.AsSpan().IndexOfAny('*', '?') < 0 ? name == entry : Glob(entry, name));

    // Iterative wildcard match with one backtrack point: linear in practice, never exponential.
    private static bool Glob(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
