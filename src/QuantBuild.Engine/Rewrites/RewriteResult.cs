namespace QuantBuild.Engine.Rewrites;

/// <summary>What one rewrite changed (node or tensor names) and what it left alone on purpose, with the reason.</summary>
/// <param name="Rewrite">The rewrite's name.</param>
/// <param name="Changed">Names of the nodes (or, for dead-code removal, tensors) the rewrite changed or removed.</param>
/// <param name="Skipped">"name: why" for each candidate it did not touch.</param>
/// <param name="Detail">A model-level change that names no node (for example "opset 11 → 13"), or null.</param>
internal sealed record RewriteResult(string Rewrite, IReadOnlyList<string> Changed, IReadOnlyList<string> Skipped, string? Detail = null)
{
    /// <summary>True when the model is different after the rewrite.</summary>
    public bool ChangedModel => Changed.Count > 0 || Detail is not null;

    public static RewriteResult Of(string rewrite, IEnumerable<string> changed, IEnumerable<string>? skipped = null, string? detail = null) =>
        new(rewrite, changed.ToList(), (skipped ?? []).ToList(), detail);

    /// <summary>One line for the log: the count and the first few names, and what was left alone.</summary>
    public string Summary()
    {
        const int Shown = 5;
        string names = string.Join(", ", Changed.Take(Shown)) + (Changed.Count > Shown ? $", … ({Changed.Count - Shown} more)" : string.Empty);
        string detail = Detail is null ? string.Empty : $" {Detail};";
        string skipped = Skipped.Count > 0 ? $"; left {Skipped.Count}: {string.Join("; ", Skipped.Take(3))}{(Skipped.Count > 3 ? "; …" : string.Empty)}" : string.Empty;
        return $"{Rewrite}:{detail} {Changed.Count} changed ({names}){skipped}";
    }
}
